/*
 * util_gdal.c - GDAL's one-time start-up (drivers registered once per process, from any thread)
 * and the capture of GDAL's error messages, so that a failure can name GDAL's reason.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <threads.h>

#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>

#include "util_int.h"

static once_flag gdal_once = ONCE_FLAG_INIT;

static void gdal_init_once(void)
{
    GDALAllRegister();
    OGRRegisterAll();
}

void parus__gdal_init(void)
{
    call_once(&gdal_once, gdal_init_once);
}

static void CPL_STDCALL capture_handler(CPLErr cls, CPLErrorNum num, const char *msg)
{
    parus__gdal_capture *cap = CPLGetErrorHandlerUserData();
    (void)num;
    if (!cap || cls < CE_Failure)
        return;
    cap->n_errors++;
    snprintf(cap->msg, sizeof cap->msg, "%s", msg ? msg : "");
}

void parus__gdal_capture_begin(parus__gdal_capture *cap)
{
    cap->msg[0] = '\0';
    cap->n_errors = 0;
    CPLPushErrorHandlerEx(capture_handler, cap);
}

void parus__gdal_capture_end(parus__gdal_capture *cap)
{
    (void)cap;
    CPLPopErrorHandler();
}

const char *parus__gdal_capture_msg(const parus__gdal_capture *cap, const char *fallback)
{
    return cap->msg[0] ? cap->msg : fallback;
}
