/*
 * parus/import.h - reading what other tools wrote, for the store: external per-sample time series
 * (CSV in the long or the wide form) and the crop declared for each parcel in a season (CSV).
 *
 * Both readers are strict and complain about the first problem, naming the file and the physical
 * line (the header is line 1; a quoted value spanning lines counts them all): the caller stores
 * either the whole file or nothing. CSV is RFC 4180 (commas; quotes for values with commas, quotes
 * or line breaks; LF or CRLF; a UTF-8 byte-order mark is skipped); text must be UTF-8. Column names
 * are matched without regard to ASCII case; cells are trimmed of surrounding blanks. Errors:
 * E_IO (cannot read the file), E_FORMAT (not CSV as above, a missing column, a value that is not
 * a number or a date), E_INVALID (an empty id, inconsistent rows, an unknown crop), E_DUPLICATE,
 * E_NOMEM. docs/formats.md shows both forms with examples.
 *
 * Threads: the functions share no state; each call may run on its own thread.
 */
#ifndef PARUS_IMPORT_H
#define PARUS_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "parus/crops.h"
#include "parus/error.h"
#include "parus/export.h"
#include "parus/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- external time series ---- */

typedef enum parus_series_form {
    PARUS_SERIES_AUTO = 0, /* long when the file has the date column, else wide */
    PARUS_SERIES_LONG,     /* one row per sample and date, one column per variable */
    PARUS_SERIES_WIDE      /* one row per sample, one column per variable and date (or step) */
} parus_series_form;

/* "auto", "long", "wide" */
PARUS_API const char *parus_series_form_name(parus_series_form form);
/* Parse one of those names; E_INVALID otherwise. */
PARUS_API parus_status parus_series_form_parse(const char *s, parus_series_form *out,
                                               parus_error *err);

typedef struct parus_series_csv_options {
    parus_series_form form;
    const char *id_column;    /* required in the file */
    const char *label_column; /* optional in the file: no label when absent (or a cell empty) */
    const char *group_column; /* optional: a fold or location group */
    const char *date_column;  /* long form: required */
    const char *start_column; /* optional; wide form with step columns: required */
    const char *end_column;   /* optional */
    int step_days;            /* wide form with step columns: days between steps (> 0) */
    const char *exclude;      /* comma-separated columns that are never variables */
} parus_series_csv_options;

/* Defaults: auto; sample_id, label, fold, date, start_date, end_date; 16 days; exclude
 * "t,longitude,latitude" (a step index and coordinates, numbers that are not variables). */
PARUS_API void parus_series_csv_options_init(parus_series_csv_options *opt);

/* What a series file held. Samples are in id order (byte order), each with a point for every
 * (date, variable) the file has for it, dates ascending, variables in column order; a missing
 * value (an empty cell, NA, N/A, NaN, null) is a point with value NaN. Everything is owned by the
 * set (parus_sample_set_release). */
typedef struct parus_sample_set {
    parus_sample *samples;
    size_t n_samples;
    char **vars; /* the variables, in column order */
    size_t n_vars;
    char **ignored; /* columns read as neither a role nor a variable, in column order */
    size_t n_ignored;
    size_t n_rows;                   /* data records read */
    size_t n_points;                 /* over all samples */
    size_t n_missing;                /* points whose value is missing */
    size_t n_dates_min, n_dates_max; /* dates per sample */
    parus_series_form form;          /* the form read: long or wide */
} parus_sample_set;

/* Read a CSV of per-sample time series (opt NULL: the defaults).
 *
 * Long form: one row per sample and date. Role columns are the id, label, group, date, start and
 * end columns; every other column is a variable when its cells are numbers (or missing) in every
 * row, and is ignored when none of its cells is a number (a text column) or when it is named in
 * opt->exclude. A column holding both numbers and text is an error at its first text cell (name
 * it in exclude if it is not a variable). Each sample's rows must agree on label, group, start
 * and end; a (sample, date) given twice is an error.
 *
 * Wide form: one row per sample. Variable columns are named <var>_<YYYY-MM-DD> or <var>_<YYYYMMDD>
 * (a real date), or <var>_<digits> (step k from 1: the row's start date + (k - 1) * step_days). A
 * file has one kind or the other; the start column is then required and every row needs a start
 * date. Other columns (not a role, not of that pattern, or excluded) are ignored. Every cell of a
 * variable column must be a number or missing; a sample id on two rows is an error.
 *
 * Dates are YYYY-MM-DD or YYYYMMDD and must be real dates. On success *out is filled (release it
 * with parus_sample_set_release); on error *out is left as it was. */
PARUS_API parus_status parus_series_csv_read(const char *path, const parus_series_csv_options *opt,
                                             parus_sample_set *out, parus_error *err);
PARUS_API void parus_sample_set_release(parus_sample_set *set);

/* ---- declared crops ---- */

typedef struct parus_crop_declarations {
    char **parcel_ids;
    char **crops;
    size_t *lines; /* the line of each in the file */
    size_t n;      /* in file order */
} parus_crop_declarations;

/* Read a CSV of parcel id -> crop code (id_column, crop_column: NULL for "parcel_id", "crop").
 * Every row needs both cells non-empty; a parcel on two rows is E_DUPLICATE naming both lines;
 * when table is not NULL, every crop must be one of its codes (E_INVALID naming the line and the
 * code). Other columns are ignored. On error *out is left as it was. */
PARUS_API parus_status parus_crop_declarations_read(const char *path, const char *id_column,
                                                    const char *crop_column,
                                                    const parus_crop_table *table,
                                                    parus_crop_declarations *out, parus_error *err);
PARUS_API void parus_crop_declarations_release(parus_crop_declarations *d);

#ifdef __cplusplus
}
#endif
#endif
