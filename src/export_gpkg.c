/*
 * export_gpkg.c - the season's assessed parcels as a GeoPackage for QGIS (parus/exporter.h):
 * one layer, "parcels", MultiPolygon in EPSG:4326, the per-parcel CSV's columns as fields (the
 * table in exporter.c), money as 64-bit integer fen, dates as dates.
 *
 * Written through GDAL's GPKG driver inside one transaction (140,000 features commit at once
 * instead of one SQLite transaction each), to a temporary name beside path, fsynced and renamed
 * over path at the end (parus/outfile.h), so a crash or a full disk never leaves a half-written
 * GeoPackage under the name the user asked for, and the previous one stays until then.
 * Geometries are the store's lon/lat WKB (Polygon or MultiPolygon), promoted to MultiPolygon so
 * the layer has one geometry type, as QGIS expects.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "parus/exporter.h"
#include "parus/parcels.h"

#include "exporter_int.h"
#include "outfile_int.h"
#include "util_int.h"

struct gpkg_walk {
    parus_store *store;
    OGRLayerH layer;
    OGRFeatureDefnH defn;
    const parus__col *cols;
    size_t n_cols;
    const parus__limit_index *idx;
    parus__gdal_capture *cap;
    const char *path;
    size_t n;
    parus_error *err;
};

/* The number written in n decimal digits at s (a canonical date's year, month or day). */
static int digits(const char *s, int n)
{
    int v = 0, i;
    for (i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static OGRFieldType field_type(parus__col_type t)
{
    switch (t) {
    case PARUS__COL_INT:
    case PARUS__COL_FEN:
        return OFTInteger64;
    case PARUS__COL_FIXED:
        return OFTReal;
    case PARUS__COL_DATE:
        return OFTDate;
    case PARUS__COL_TEXT:
        break;
    }
    return OFTString;
}

static void set_field(OGRFeatureH f, int i, const parus__col *col, const parus__cell *c)
{
    if (c->null) {
        OGR_F_SetFieldNull(f, i);
        return;
    }
    switch (col->type) {
    case PARUS__COL_TEXT:
        OGR_F_SetFieldString(f, i, c->text);
        break;
    case PARUS__COL_INT:
    case PARUS__COL_FEN:
        OGR_F_SetFieldInteger64(f, i, (GIntBig)c->i);
        break;
    case PARUS__COL_FIXED:
        OGR_F_SetFieldDouble(f, i, c->x);
        break;
    case PARUS__COL_DATE: {
        char date[11];
        if (parus__parse_date(c->text, date))
            OGR_F_SetFieldDateTime(f, i, digits(date, 4), digits(date + 5, 2), digits(date + 8, 2),
                                   0, 0, 0, 0);
        else
            OGR_F_SetFieldNull(f, i);
        break;
    }
    }
}

static int feature_add(const parus_parcel_result *r, void *arg)
{
    struct gpkg_walk *gw = arg;
    parus_parcel p;
    OGRGeometryH geom = NULL;
    OGRFeatureH f;
    size_t col;

    if (parus_store_get_parcel(gw->store, r->parcel_id, &p, gw->err) != PARUS_OK)
        return 1;
    if (p.wkb_size == 0 || OGR_G_CreateFromWkbEx(p.wkb, NULL, &geom, p.wkb_size) != OGRERR_NONE ||
        !geom) {
        parus_fail(gw->err, PARUS_E_GEOMETRY, "parcel '%s': its stored geometry cannot be read",
                   r->parcel_id);
        parus_parcel_release(&p);
        return 1;
    }
    parus_parcel_release(&p);
    geom = OGR_G_ForceToMultiPolygon(geom);
    f = OGR_F_Create(gw->defn);
    if (!f) {
        OGR_G_DestroyGeometry(geom);
        parus_fail(gw->err, PARUS_E_NOMEM, "out of memory writing '%s'", gw->path);
        return 1;
    }
    OGR_F_SetGeometryDirectly(f, geom);
    for (col = 0; col < gw->n_cols; col++) {
        parus__cell c;
        parus__parcel_cell(r, gw->idx, col, &c);
        set_field(f, (int)col, &gw->cols[col], &c);
    }
    if (OGR_L_CreateFeature(gw->layer, f) != OGRERR_NONE) {
        parus_fail(gw->err, PARUS_E_IO, "cannot write parcel '%s' to '%s': %s", r->parcel_id,
                   gw->path, parus__gdal_capture_msg(gw->cap, "GDAL gave no reason"));
        OGR_F_Destroy(f);
        return 1;
    }
    OGR_F_Destroy(f);
    gw->n++;
    return 0;
}

static parus_status create_layer(GDALDatasetH ds, const char *season, const char *tmp,
                                 const parus__col *cols, size_t n_cols, OGRLayerH *out,
                                 parus__gdal_capture *cap, parus_error *err)
{
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    char identifier[96], description[160];
    const char *lco[5];
    OGRLayerH layer = NULL;
    size_t i;

    snprintf(identifier, sizeof identifier, "IDENTIFIER=parus parcels %s", season);
    snprintf(description, sizeof description,
             "DESCRIPTION=parcels assessed by parus for season %s (docs/export.md)", season);
    lco[0] = "GEOMETRY_NAME=geom";
    lco[1] = "FID=fid";
    lco[2] = identifier;
    lco[3] = description;
    lco[4] = NULL;
    if (srs && OSRImportFromEPSG(srs, 4326) == OGRERR_NONE) {
        OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
        layer = GDALDatasetCreateLayer(ds, "parcels", srs, wkbMultiPolygon, (char **)lco);
    }
    if (srs)
        OSRRelease(srs);
    if (!layer)
        return parus_fail(err, PARUS_E_IO, "cannot create the parcels layer in '%s': %s", tmp,
                          parus__gdal_capture_msg(cap, "GDAL gave no reason"));
    for (i = 0; i < n_cols; i++) {
        OGRFieldDefnH fd = OGR_Fld_Create(cols[i].gpkg_name, field_type(cols[i].type));
        OGRErr e = OGR_L_CreateField(layer, fd, TRUE);
        OGR_Fld_Destroy(fd);
        if (e != OGRERR_NONE)
            return parus_fail(err, PARUS_E_IO, "cannot create field '%s' in '%s': %s",
                              cols[i].gpkg_name, tmp,
                              parus__gdal_capture_msg(cap, "GDAL gave no reason"));
    }
    *out = layer;
    return PARUS_OK;
}

parus_status parus_export_gpkg(parus_store *store, const char *season, const char *path,
                               size_t *n_features, parus_error *err)
{
    parus__limit_index idx;
    parus__gdal_capture cap;
    struct gpkg_walk gw;
    GDALDriverH drv;
    GDALDatasetH ds;
    parus_outfile *of = NULL;
    const char *tmp;
    bool any = false;
    parus_status st;

    if (!store || !season || !path || !*path)
        return parus_fail(err, PARUS_E_INVALID, "export: missing store, season or path");
    if (!parus_store_season_valid(season))
        return parus_fail(err, PARUS_E_INVALID,
                          "season '%s' is not a window 'YYYY-MM-DD/YYYY-MM-DD'", season);
    st = parus__season_has_results(store, season, &any, err);
    if (st != PARUS_OK)
        return st;
    if (!any)
        return parus_fail(err, PARUS_E_NOT_FOUND,
                          "no parcel result for season %s in the store: run 'parus assess "
                          "--season %s' first",
                          season, season);
    st = parus__outfile_open_named(path, &of, err);
    if (st != PARUS_OK)
        return st;
    tmp = parus__outfile_temp_path(of);
    st = parus__limit_index_load(store, season, &idx, err);
    if (st != PARUS_OK) {
        parus_outfile_abort(of);
        return st;
    }

    parus__gdal_init();
    parus__gdal_capture_begin(&cap);
    memset(&gw, 0, sizeof gw);
    drv = GDALGetDriverByName("GPKG");
    ds = drv ? GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, NULL) : NULL;
    if (!ds) {
        st = parus_fail(
            err, PARUS_E_IO, "cannot create '%s': %s", path,
            parus__gdal_capture_msg(&cap, drv ? "GDAL gave no reason" : "GDAL has no GPKG driver"));
        goto out;
    }
    gw.cols = parus__parcel_cols(&gw.n_cols);
    st = create_layer(ds, season, tmp, gw.cols, gw.n_cols, &gw.layer, &cap, err);
    if (st == PARUS_OK && GDALDatasetStartTransaction(ds, FALSE) != OGRERR_NONE)
        st = parus_fail(err, PARUS_E_IO, "cannot start a transaction in '%s': %s", tmp,
                        parus__gdal_capture_msg(&cap, "GDAL gave no reason"));
    if (st == PARUS_OK) {
        gw.store = store;
        gw.defn = OGR_L_GetLayerDefn(gw.layer);
        gw.idx = &idx;
        gw.cap = &cap;
        gw.path = path;
        gw.err = err;
        st = parus_store_results_foreach(store, season, feature_add, &gw, err);
    }
    if (st == PARUS_OK && GDALDatasetCommitTransaction(ds) != OGRERR_NONE)
        st = parus_fail(err, PARUS_E_IO, "cannot write '%s': %s", path,
                        parus__gdal_capture_msg(&cap, "GDAL gave no reason"));
    cap.n_errors = 0;
    GDALClose(ds);
    if (st == PARUS_OK && cap.n_errors > 0)
        st = parus_fail(err, PARUS_E_IO, "cannot finish '%s': %s", path,
                        parus__gdal_capture_msg(&cap, "GDAL gave no reason"));
out:
    parus__gdal_capture_end(&cap);
    if (st == PARUS_OK) {
        /* fsync and rename over path; on failure the previous file stays */
        st = parus_outfile_commit(of, err);
    } else {
        parus_outfile_abort(of);
    }
    if (st == PARUS_OK && n_features)
        *n_features = gw.n;
    parus__limit_index_release(&idx);
    return st;
}
