/*
 * cmd_assess.c - `parus assess`: a season end to end into the store (parus_assess_run): every
 * parcel's crop, condition and flags, planted area, yield and value, and every farmer's limit
 * with its reasons, in one transaction stamped with the run's id. Prints a short credit table.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/assess.h"
#include "parus/credit.h"
#include "parus/store.h"

#include "cli_assess.h"

static const char usage[] =
    "usage: parus assess [--season FIRST/LAST] [--model FILE | --no-model] [--policy FILE]\n"
    "                    [--crops FILE] [--debts FILE] [--no-radar-floods]\n"
    "                    [--radar-losses] [--season-overlap-ok] [--threads N]\n\n"
    "Assess a season end to end: every parcel's crop (stored as by parus classify), condition\n"
    "against its peers and event flags, planted area, yield and value, then every farmer's\n"
    "credit limit with its reasons. The season's previous results are replaced in one\n"
    "transaction.\n"
    "  --season FIRST/LAST  the season window (default: [season] window in the config)\n"
    "  --model FILE         the crop model (default: [season] model in the config)\n"
    "  --no-model           no model: the crop calendars' nearest match, low confidence (the\n"
    "                       policy's low-confidence haircut applies)\n"
    "  --policy FILE        credit policy (default: [tables] policy, or data-samples/policy.ini)\n"
    "  --crops FILE         crop table (default: [tables] crops, or data-samples/crops.csv)\n"
    "  --debts FILE         existing debts, CSV farmer_id,debt_cny (default: [tables] debts;\n"
    "                       none when not configured)\n"
    "  --no-radar-floods    flag no floods from Sentinel-1 (by default the radar in the\n"
    "                       season is read for them, docs/method.md section 9)\n"
    "  --radar-losses       also flag sudden losses from a Sentinel-1 VH fall against the crop's\n"
    "                       peers (off by default, same section)\n"
    "  --season-overlap-ok  assess even where the store holds the limits of another season\n"
    "                       covering more than half of this one (refused without it, exit 4:\n"
    "                       the same harvest lent on twice)\n"
    "  --threads N          threads (default: [parus] threads, or all cores); the results do\n"
    "                       not depend on it\n\n"
    "Exit status: 0 done, 2 bad command line, 6 no parcel in the store, 7 a bad policy, crop\n"
    "table or debts file (nothing is stored), and the codes of docs/cli.md.\n";

static void print_table(const char *window, const cli_assess_inputs *in,
                        const parus_assess_stats *st, long long run_id)
{
    size_t r;
    printf("season %s: %zu parcels in %.2f s\n", window, st->n_parcels, st->seconds);
    if (in->model)
        printf("  crops by the model (%s): %zu\n", in->model_path, st->n_model);
    if (st->n_calendar)
        printf("  crops by calendar (low confidence, no model): %zu\n", st->n_calendar);
    printf("  not classified: %zu\n", st->n_not_classified);
    printf("  parcels with a value: %zu (unknown crop: %zu); flags: %zu; peer curves: %zu\n",
           st->n_valued, st->n_unknown_crop, st->n_flags, st->n_peer_curves);
    printf("  observations left out as outliers: %zu\n", st->n_outliers);
    printf("\n%-24s %12s\n", "credit", "");
    printf("%-24s %12zu\n", "farmers", st->n_farmers);
    printf("%-24s %12lld %s\n", "total limit", (long long)st->total_limit_cny, in->policy.currency);
    printf("%-24s %12zu\n", "with a zero limit", st->n_farmers_zero);
    for (r = 0; r < PARUS_CREDIT_N_REASONS; r++)
        if (st->n_reason[r])
            printf("  %-22s %12zu\n", parus_credit_reason_name((parus_credit_reason)r),
                   st->n_reason[r]);
    if (st->n_farmers_unknown_crop)
        printf("  %-22s %12zu\n", PARUS_ASSESS_REASON_UNKNOWN_CROP, st->n_farmers_unknown_crop);
    printf("\nlatest imagery %s, model %s, policy %.16s\n",
           st->latest_date[0] ? st->latest_date : "none", st->model_version, st->policy_hash);
    printf("imagery used: %zu tiles, digest %.16s\n", st->n_tiles_used,
           st->tiles_digest[0] ? st->tiles_digest : "none");
    printf("run id: %lld\n", run_id);
}

int cmd_assess(cli_ctx *ctx, int argc, char **argv)
{
    cli_assess_args args;
    cli_assess_inputs in;
    parus_assess_stats st;
    parus_store *store = NULL;
    parus_error err;
    char summary[1024];
    long long run_id;
    parus_season_state owed;
    bool tracked = false;
    int rc;

    memset(&args, 0, sizeof args);
    args.threads = -1;
    args.full = true;
    if ((rc = cli_assess_args_parse("assess", usage, argc, argv, &args)) != 0)
        return rc < 0 ? PARUS_EXIT_OK : rc;
    rc = cli_assess_prepare(ctx, "assess", &args, &in, NULL);
    if (rc != 0)
        goto out;
    if ((rc = cli_open_store(ctx, &store)) != 0)
        goto out;
    /* a season a nightly left owed (killed, or its assessment failed) is settled by this run */
    if (parus_store_season_state_get(store, in.window, &owed, &tracked, &err) != PARUS_OK)
        tracked = false;
    run_id = cli_run_begin(store, argc, argv);
    in.opt.run_id = run_id;
    if (parus_assess_run(store, &in.opt, &st, &err) != PARUS_OK) {
        rc = cli_report(&err);
        cli_run_end(store, run_id, err.code == PARUS_E_NOT_FOUND ? "noop" : "failed", err.msg);
        goto out;
    }
    snprintf(summary, sizeof summary,
             "season=%s parcels=%zu model=%zu calendar=%zu not_classified=%zu valued=%zu "
             "unknown_crop=%zu flags=%zu outliers=%zu farmers=%zu total_limit_cny=%lld "
             "zero_limits=%zu "
             "model_version=%s policy=%s tiles=%zu tiles_digest=%s",
             in.window, st.n_parcels, st.n_model, st.n_calendar, st.n_not_classified, st.n_valued,
             st.n_unknown_crop, st.n_flags, st.n_outliers, st.n_farmers,
             (long long)st.total_limit_cny, st.n_farmers_zero, st.model_version, st.policy_hash,
             st.n_tiles_used, st.tiles_digest[0] ? st.tiles_digest : "none");
    cli_run_end(store, run_id, "ok", summary);
    cli_assess_warnings(&st);
    if (tracked && owed.stale)
        fprintf(stderr,
                "parus: season %s was owed an assessment since %s (%s): its results are now "
                "current\n",
                in.window, owed.stale_since, cli_safe(owed.stale_cause));
    if (!ctx->quiet)
        print_table(in.window, &in, &st, run_id);
out:
    cli_assess_release(&in);
    parus_store_close(store);
    return rc;
}
