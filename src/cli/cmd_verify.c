/*
 * cmd_verify.c - `parus verify`: every stored limit of a season re-derived from the stored
 * per-parcel evidence with the policy, debts and crop table recorded with the assessment
 * (parus/verify.h), and every difference printed: farmer, parcel, what, stored, recomputed.
 * Exit 0 when all agree, 13 when anything differs, 6 when the season has no recorded inputs. The
 * current policy, debts and crop table files (options, else the configuration's) are compared
 * with the recorded ones and a difference is said; the recorded ones are used. The store is only
 * read. A season owed an assessment (the store changed since its limits) is said on stdout
 * (STALE) and stderr; the exit code stays that of the comparison.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "parus/store.h"
#include "parus/verify.h"

#include "cli_season.h"

static const char usage[] =
    "usage: parus verify [--season FIRST/LAST] [--policy FILE] [--debts FILE] [--crops FILE]\n\n"
    "Re-derive every farmer's limit of an assessed season from the stored per-parcel evidence\n"
    "(value, condition, crop probability, flags, planted and declared area, observations) with "
    "the\n"
    "policy, debts and crop table recorded when it was assessed, through the same credit rule, "
    "and\n"
    "print every difference from what is stored: the limit, each of its parts, the debt, the\n"
    "reasons, the repayment date, each parcel's credit verdict.\n"
    "  --season FIRST/LAST  the season (default: the config's [season] window)\n"
    "  --policy FILE        the current policy, compared with the recorded one (default:\n"
    "                       [tables] policy); the recorded one is used\n"
    "  --debts FILE         the current debts file, compared likewise (default: [tables] debts)\n"
    "  --crops FILE         the current crop table, compared likewise (default: [tables] crops)\n\n"
    "Exit 0 when every limit re-derives to what is stored, 13 when anything differs, 6 when the\n"
    "season records no inputs (not assessed, or assessed before schema 8: assess it again).\n";

struct out {
    const char *last_farmer;
};

static const char *or_season(const char *s)
{
    return s ? s : "(season)";
}

static int print_diff(const parus_verify_diff *d, void *ctx)
{
    (void)ctx;
    if (!d->farmer_id)
        printf("differs  %s: recorded %s, recomputed %s\n", d->item, d->stored, d->recomputed);
    else if (d->parcel_id)
        printf("differs  farmer %s parcel %s: %s stored %s, recomputed %s\n", d->farmer_id,
               d->parcel_id, d->item, d->stored, d->recomputed);
    else
        printf("differs  farmer %s: %s stored %s, recomputed %s\n", or_season(d->farmer_id),
               d->item, d->stored, d->recomputed);
    return 0;
}

static void say_file(const char *what, const char *path, parus_verify_file f, const char *current,
                     const char *recorded)
{
    if (f == PARUS_VERIFY_FILE_DIFFERS)
        printf("note     the current %s '%s' (sha256 %.16s...) differs from the one recorded "
               "with the assessment (%s%.16s%s): the recorded one was used\n",
               what, path, current, recorded[0] ? "sha256 " : "", recorded[0] ? recorded : "none",
               recorded[0] ? "..." : "");
    else if (f == PARUS_VERIFY_FILE_SAME)
        printf("same     the current %s '%s' is the one recorded\n", what, path);
}

int cmd_verify(cli_ctx *ctx, int argc, char **argv)
{
    const char *season_opt = NULL, *policy = NULL, *debts = NULL, *crops = NULL;
    char window[PARUS_SEASON_WINDOW_TEXT];
    parus_season_state owed;
    bool stale = false;
    int64_t start_day;
    size_t length_days;
    parus_verify_options opt;
    parus_verify_stats st;
    parus_store *store;
    parus_error err;
    parus_status code;
    struct out o = {NULL};
    int a, rc;

    for (a = 1; a < argc; a++) {
        const char *arg = argv[a];
        const char **dst = NULL;
        if (cli_is_help(arg)) {
            fputs(usage, stdout);
            return PARUS_EXIT_OK;
        } else if (strcmp(arg, "--season") == 0) {
            dst = &season_opt;
        } else if (strcmp(arg, "--policy") == 0) {
            dst = &policy;
        } else if (strcmp(arg, "--debts") == 0) {
            dst = &debts;
        } else if (strcmp(arg, "--crops") == 0) {
            dst = &crops;
        } else if (arg[0] == '-') {
            return cli_usage_error("verify", "unknown option '%s'", arg);
        } else {
            return cli_usage_error("verify", "unexpected argument '%s'", arg);
        }
        if (a + 1 >= argc || !argv[a + 1][0])
            return cli_usage_error("verify", "option '%s' needs a value", arg);
        *dst = argv[++a];
    }
    rc = cli_season_resolve(ctx, "verify", season_opt, window, &start_day, &length_days);
    if (rc)
        return rc;

    parus_verify_options_init(&opt);
    opt.season = window;
    opt.policy_path = cli_table_path(ctx, policy, "policy");
    opt.debts_path = cli_table_path(ctx, debts, "debts");
    opt.crops_path = cli_table_path(ctx, crops, "crops");
    opt.on_diff = print_diff;
    opt.ctx = &o;
    /* verify only reads: it works on a store the user may only read (docs/operations.md) */
    if ((rc = cli_open_store_readonly(ctx, &store)) != 0)
        return rc;
    code = parus_store_snapshot_begin(store, &err);
    if (code == PARUS_OK)
        code = parus_verify_season(store, &opt, &st, &err);
    /* limits that agree with their evidence are still not current when the store has changed
     * since (tiles, weather, parcels, declared crops): said, in the same snapshot */
    if (code == PARUS_OK)
        stale = cli_season_owed_warn(store, window, "the limits verified", &owed);
    parus_store_snapshot_end(store);
    parus_store_close(store);
    fflush(stdout);
    if (code != PARUS_OK)
        return cli_report(&err);

    say_file("policy", opt.policy_path, st.policy_file, st.current_policy_hash, st.policy_hash);
    say_file("debts file", opt.debts_path, st.debts_file, st.current_debts_hash, st.debts_hash);
    say_file("crop table", opt.crops_path, st.crops_file, st.current_crops_hash, st.crops_hash);
    if (!st.evidence_recorded[0])
        printf("note     the season was assessed before its evidence was recorded (schema 21): "
               "its tiles' observations are not compared\n");
    else if (strcmp(st.evidence_recorded, st.evidence_now) == 0)
        printf("same     the season's evidence: %zu tiles and %zu observations, as when its "
               "limits were written\n",
               st.evidence_tiles, st.evidence_observations);
    printf("verify   season %s: %zu farmers, %zu parcels re-derived with the recorded policy %s, "
           "debts %s, crop table %s (model %s)\n",
           window, st.n_farmers, st.n_parcels, st.policy_hash,
           st.debts_hash[0] ? st.debts_hash : "none", st.crops_hash[0] ? st.crops_hash : "none",
           st.model_version);
    printf("%s   %zu of %zu farmers differ, %zu differences; limits stored %" PRId64
           " CNY, recomputed %" PRId64 " CNY\n",
           st.n_diffs ? "DIFFERS" : "ok     ", st.n_farmers_differ, st.n_farmers, st.n_diffs,
           st.stored_total_cny, st.recomputed_total_cny);
    if (stale)
        printf("STALE    season %s is owed an assessment since %s (%s): the limits agree with "
               "the evidence they were computed from, not with what the store holds now\n",
               window, owed.stale_since, cli_safe(owed.stale_cause));
    return st.n_diffs ? PARUS_EXIT_DIFFERS : PARUS_EXIT_OK;
}
