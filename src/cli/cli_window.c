/*
 * cli_window.c - where the season commands (train, classify, assess, export, query) take the crop
 * table, the policy, the debts file and the season window from: the option, then the config, then
 * the defaults; and whether a season's stored results are owed an assessment. Apart from
 * cli_season.c, which builds datasets, so that the query launcher links none of the classifier.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "parus/exporter.h"
#include "parus/season.h"

#include "cli_season.h"

#ifndef PARUS_DEFAULT_TABLES_DIR
#define PARUS_DEFAULT_TABLES_DIR "data-samples"
#endif

bool cli_season_owed_warn(parus_store *store, const char *window, const char *what,
                          parus_season_state *state)
{
    parus_error err;
    bool tracked = false;
    if (parus_store_season_state_get(store, window, state, &tracked, &err) != PARUS_OK ||
        !tracked || !state->stale)
        return false;
    fprintf(stderr,
            "parus: warning: season %s is owed an assessment since %s (%s): %s do not rest on "
            "what the store holds now; run 'parus assess --season %s'\n",
            window, state->stale_since, cli_safe(state->stale_cause), what, window);
    return true;
}

bool cli_inputs_changed_warn(const cli_ctx *ctx, parus_store *store, const char *window)
{
    char changed[1024];
    parus_error err;
    if (parus_export_inputs_differ(
            store, window, ctx->cfg.crops[0] ? ctx->cfg.crops : NULL,
            ctx->cfg.policy[0] ? ctx->cfg.policy : NULL, ctx->cfg.debts[0] ? ctx->cfg.debts : NULL,
            ctx->cfg.model[0] ? ctx->cfg.model : NULL, changed, sizeof changed, &err) != PARUS_OK ||
        !changed[0])
        return false;
    fprintf(stderr,
            "parus: warning: season %s's limits were computed with other inputs than the "
            "configuration names now: %s; run 'parus assess --season %s'\n",
            window, cli_safe(changed), window);
    return true;
}

const char *cli_table_path(const cli_ctx *ctx, const char *option, const char *which)
{
    if (option)
        return option;
    if (strcmp(which, "crops") == 0 && ctx->cfg.crops[0])
        return ctx->cfg.crops;
    if (strcmp(which, "policy") == 0 && ctx->cfg.policy[0])
        return ctx->cfg.policy;
    if (strcmp(which, "debts") == 0)
        return ctx->cfg.debts[0] ? ctx->cfg.debts : NULL; /* no default: no debts */
    if (strcmp(which, "crops") == 0)
        return PARUS_DEFAULT_TABLES_DIR "/crops.csv";
    return PARUS_DEFAULT_TABLES_DIR "/policy.ini";
}

int cli_season_resolve(const cli_ctx *ctx, const char *cmd, const char *option,
                       char window[PARUS_SEASON_WINDOW_TEXT], int64_t *start_day,
                       size_t *length_days)
{
    parus_error err;
    const char *text = option ? option : (ctx->cfg.season[0] ? ctx->cfg.season : NULL);
    if (!text)
        return cli_usage_error(cmd, "no season: give --season FIRST/LAST or set [season] window "
                                    "in the config");
    if (parus_season_parse_window(text, start_day, length_days, &err) != PARUS_OK)
        return cli_usage_error(cmd, "bad season '%s': %s", text, err.msg);
    parus_season_window_text(*start_day, *length_days, window, PARUS_SEASON_WINDOW_TEXT);
    return 0;
}
