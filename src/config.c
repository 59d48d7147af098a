/*
 * config.c - the configuration file (INI, read with inih) for paths and options that a cron job
 * would otherwise repeat on every command line.
 *
 * Strict by design: an unknown section or key, or a value that does not parse, is an error naming
 * the file, the line and the key. A silently ignored typo in a nightly job's configuration would
 * run the bank's pipeline with a default nobody chose.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "parus/config.h"
#include "parus/season.h"
#include "util_int.h"

void parus_config_init(parus_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->db, sizeof cfg->db, "parus.db");
    snprintf(cfg->id_field, sizeof cfg->id_field, "parcel_id");
    snprintf(cfg->farmer_field, sizeof cfg->farmer_field, "farmer_id");
    snprintf(cfg->declared_area_field, sizeof cfg->declared_area_field, "declared_area_mu");
    cfg->declared_area_unit = PARUS_AREA_UNIT_AUTO;
    cfg->threads = 0;
    cfg->settle_s = -1.0;
    cfg->area_ratio_min = PARUS_PARCEL_AREA_RATIO_MIN;
    cfg->area_ratio_max = PARUS_PARCEL_AREA_RATIO_MAX;
    cfg->max_area_ha = PARUS_PARCEL_MAX_AREA_M2 / PARUS_M2_PER_HA;
    cfg->overlap_min_share = PARUS_OVERLAP_MIN_SHARE;
}

parus_status parus_area_unit_parse(const char *s, parus_area_unit *out, parus_error *err)
{
    static const struct {
        const char *name;
        parus_area_unit unit;
    } units[] = {{"auto", PARUS_AREA_UNIT_AUTO},
                 {"m2", PARUS_AREA_UNIT_M2},
                 {"mu", PARUS_AREA_UNIT_MU},
                 {"ha", PARUS_AREA_UNIT_HA}};
    size_t i;
    for (i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (parus__strcasecmp(s, units[i].name) == 0) {
            *out = units[i].unit;
            return PARUS_OK;
        }
    }
    return parus_fail(err, PARUS_E_CONFIG, "unknown area unit '%s' (expected m2, mu, ha or auto)",
                      s);
}

enum key_kind {
    KEY_STRING,
    KEY_PATH,
    KEY_THREADS,
    KEY_UNIT,
    KEY_SECONDS,
    KEY_WINDOW,
    KEY_POSITIVE,
    KEY_SHARE,
    KEY_OFF_SWITCH /* on|off into an int that is 1 for off */
};

struct key_def {
    const char *section;
    const char *name;
    enum key_kind kind;
    size_t offset;
    size_t size;
};

#define STR_KEY(sec, key, member, kind)                                                            \
    {                                                                                              \
        sec, key, kind, offsetof(parus_config, member), sizeof(((parus_config *)0)->member)        \
    }

static const struct key_def keys[] = {
    STR_KEY("store", "db", db, KEY_PATH),
    STR_KEY("parcels", "id_field", id_field, KEY_STRING),
    STR_KEY("parcels", "farmer_field", farmer_field, KEY_STRING),
    STR_KEY("parcels", "declared_area_field", declared_area_field, KEY_STRING),
    {"parcels", "declared_area_unit", KEY_UNIT, offsetof(parus_config, declared_area_unit), 0},
    STR_KEY("parcels", "assume_crs", assume_crs, KEY_STRING),
    {"parcels", "area_ratio_min", KEY_POSITIVE, offsetof(parus_config, area_ratio_min), 0},
    {"parcels", "area_ratio_max", KEY_POSITIVE, offsetof(parus_config, area_ratio_max), 0},
    {"parcels", "max_area_ha", KEY_POSITIVE, offsetof(parus_config, max_area_ha), 0},
    {"parcels", "overlap_min_share", KEY_SHARE, offsetof(parus_config, overlap_min_share), 0},
    STR_KEY("raster", "bands", bands, KEY_STRING),
    {"raster", "cloud_mask", KEY_OFF_SWITCH, offsetof(parus_config, cloud_mask_off), 0},
    {"raster", "threads", KEY_THREADS, offsetof(parus_config, threads), 0},
    STR_KEY("paths", "inbox", inbox, KEY_PATH),
    STR_KEY("paths", "done", done, KEY_PATH),
    STR_KEY("paths", "quarantine", quarantine, KEY_PATH),
    STR_KEY("paths", "log", log, KEY_PATH),
    STR_KEY("tables", "crops", crops, KEY_PATH),
    STR_KEY("tables", "policy", policy, KEY_PATH),
    STR_KEY("tables", "debts", debts, KEY_PATH),
    STR_KEY("season", "window", season, KEY_WINDOW),
    STR_KEY("season", "model", model, KEY_PATH),
    {"season", "outliers", KEY_OFF_SWITCH, offsetof(parus_config, outliers_off), 0},
    {"season", "overlap_check", KEY_OFF_SWITCH, offsetof(parus_config, overlap_check_off), 0},
    {"nightly", "settle_s", KEY_SECONDS, offsetof(parus_config, settle_s), 0},
};

struct load_ctx {
    parus_config cfg;
    const char *path;
    char dir[PARUS_CONFIG_PATH_MAX]; /* the file's directory, "" for the working directory */
    parus_error detail;
    int failed;
    unsigned char seen[sizeof keys / sizeof keys[0]]; /* a key given twice is refused */
};

static int set_key(struct load_ctx *ctx, const struct key_def *k, const char *value)
{
    char *dst = (char *)&ctx->cfg + k->offset;
    int n;

    switch (k->kind) {
    case KEY_THREADS: {
        char *end;
        long v;
        errno = 0;
        v = strtol(value, &end, 10);
        if (errno || end == value || *end || v < 0 || v > 4096) {
            parus_fail(&ctx->detail, PARUS_E_CONFIG,
                       "bad value '%s' for [%s] %s (expected 0..4096; 0 = all cores)", value,
                       k->section, k->name);
            return 0;
        }
        ctx->cfg.threads = (int)v;
        return 1;
    }
    case KEY_UNIT:
        if (parus_area_unit_parse(value, &ctx->cfg.declared_area_unit, &ctx->detail) != PARUS_OK)
            return 0;
        return 1;
    case KEY_SECONDS: {
        char *end;
        double v;
        errno = 0;
        v = strtod(value, &end);
        if (errno || end == value || *end || !(v >= 0.0 && v <= 86400.0)) {
            parus_fail(&ctx->detail, PARUS_E_CONFIG,
                       "bad value '%s' for [%s] %s (expected seconds, 0..86400)", value, k->section,
                       k->name);
            return 0;
        }
        ctx->cfg.settle_s = v;
        return 1;
    }
    case KEY_OFF_SWITCH: {
        int off;
        if (parus__strcasecmp(value, "on") == 0)
            off = 0;
        else if (parus__strcasecmp(value, "off") == 0)
            off = 1;
        else {
            parus_fail(&ctx->detail, PARUS_E_CONFIG,
                       "bad value '%s' for [%s] %s (expected on or off)", value, k->section,
                       k->name);
            return 0;
        }
        memcpy(dst, &off, sizeof off);
        return 1;
    }
    case KEY_POSITIVE:
    case KEY_SHARE: {
        char *end;
        double v;
        errno = 0;
        v = strtod(value, &end);
        if (errno || end == value || *end || !isfinite(v) || !(v > 0.0) ||
            (k->kind == KEY_SHARE && v > 1.0)) {
            parus_fail(&ctx->detail, PARUS_E_CONFIG, "bad value '%s' for [%s] %s (expected %s)",
                       value, k->section, k->name,
                       k->kind == KEY_SHARE ? "a share above 0, at most 1" : "a number above 0");
            return 0;
        }
        memcpy(dst, &v, sizeof v);
        return 1;
    }
    case KEY_PATH:
        if (value[0] && value[0] != '/' && ctx->dir[0])
            n = snprintf(dst, k->size, "%s/%s", ctx->dir, value);
        else
            n = snprintf(dst, k->size, "%s", value);
        break;
    case KEY_WINDOW: {
        int64_t start_day;
        size_t length_days;
        parus_error why;
        if (parus_season_parse_window(value, &start_day, &length_days, &why) != PARUS_OK) {
            parus_fail(&ctx->detail, PARUS_E_CONFIG, "bad value '%s' for [%s] %s: %s", value,
                       k->section, k->name, why.msg);
            return 0;
        }
        n = snprintf(dst, k->size, "%s", value);
        break;
    }
    case KEY_STRING:
    default:
        n = snprintf(dst, k->size, "%s", value);
        break;
    }
    if (n < 0 || (size_t)n >= k->size) {
        parus_fail(&ctx->detail, PARUS_E_CONFIG, "value of [%s] %s is too long (at most %zu bytes)",
                   k->section, k->name, k->size - 1);
        return 0;
    }
    return 1;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *ctx = user;
    size_t i;

    if (ctx->failed)
        return 1; /* keep the first error: inih reports its line */
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0) {
            if (ctx->seen[i]) {
                /* the last one would win silently: a file that says two things says neither */
                parus_fail(&ctx->detail, PARUS_E_CONFIG,
                           "[%s] %s is given twice (or continued on an indented line): give it "
                           "once",
                           section, name);
                ctx->failed = 1;
                return 0;
            }
            ctx->seen[i] = 1;
            if (!value[0]) {
                /* an empty path would fall back to the default table or mean "none" without a
                 * word: leaving the key out says that */
                parus_fail(&ctx->detail, PARUS_E_CONFIG,
                           "[%s] %s has no value: give one, or leave the key out for the default",
                           section, name);
                ctx->failed = 1;
                return 0;
            }
            if (!set_key(ctx, &keys[i], value)) {
                ctx->failed = 1;
                return 0;
            }
            return 1;
        }
    }
    ctx->failed = 1;
    if (!section[0])
        parus_fail(&ctx->detail, PARUS_E_CONFIG, "key '%s' outside any section", name);
    else
        parus_fail(&ctx->detail, PARUS_E_CONFIG, "unknown key '%s' in section [%s]", name, section);
    return 0;
}

parus_status parus_config_load(const char *path, parus_config *cfg, parus_error *err)
{
    struct load_ctx *ctx;
    const char *slash;
    char *text = NULL;
    int line;
    parus_status rc = PARUS_OK;

    ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return parus_fail(err, PARUS_E_NOMEM, "cannot allocate the configuration");
    ctx->cfg = *cfg;
    ctx->path = path;
    slash = strrchr(path, '/');
    if (slash) {
        size_t n = (size_t)(slash - path);
        if (n == 0)
            n = 1; /* "/parus.ini" */
        if (n >= sizeof ctx->dir) {
            rc = parus_fail(err, PARUS_E_CONFIG, "configuration path '%s' is too long", path);
            goto out_free;
        }
        memcpy(ctx->dir, path, n);
        ctx->dir[n] = '\0';
    }
    parus_error_init(&ctx->detail);

    rc = parus__read_ini_text(path, "configuration", &text, err);
    if (rc != PARUS_OK)
        goto out_free;
    line = ini_parse_string(text, on_entry, ctx);
    free(text);
    if (line != 0 || ctx->failed) {
        if (line < 0)
            rc = parus_fail(err, PARUS_E_IO, "cannot read configuration '%s'", path);
        else if (ctx->detail.code != PARUS_OK)
            rc = parus_fail(err, PARUS_E_CONFIG, "'%s' line %d: %s", path, line, ctx->detail.msg);
        else
            rc = parus_fail(err, PARUS_E_CONFIG, "'%s' line %d: syntax error", path, line);
        goto out_free;
    }
    *cfg = ctx->cfg;
out_free:
    free(ctx);
    return rc;
}
