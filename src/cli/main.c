/*
 * main.c - `parus-full`, the whole `parus` tool: the command table. The `parus` program that
 * people run is launcher.c, which answers `parus query` itself and hands every other command to
 * this one (docs/ARCHITECTURE.md, "Two programs"). Global options and dispatch: cli_main.c. Each
 * command lives in src/cli/cmd_<name>.c and answers --help.
 */
#include <stdlib.h>

#include "parus/raster.h"

#include "cli_season.h"

static const cli_command commands[] = {
    {"info", cmd_info, "show what parus sees in an imagery tile"},
    {"s1", cmd_s1, "a Sentinel-1 GRD product (SAFE): calibrate to sigma0 and place on a UTM grid"},
    {"parcels", cmd_parcels, "load parcels into the store, or show one"},
    {"ingest", cmd_ingest, "measure every parcel on tiles and store the observations"},
    {"store", cmd_store, "show what the store holds"},
    {"nightly", cmd_nightly, "ingest what is new in an inbox (the cron job)"},
    {"evaluate", cmd_evaluate, "cross-validate the crop classifier on labelled samples"},
    {"train", cmd_train, "train the crop classifier (labelled parcels, samples or a CSV)"},
    {"predict", cmd_predict, "score a saved model on a labelled CSV"},
    {"import", cmd_import, "import external per-sample time series (CSV) into the store"},
    {"classify", cmd_classify, "assess the crop of every parcel in a season"},
    {"assess", cmd_assess, "assess a season end to end: crops, condition, value, credit limits"},
    {"export", cmd_export, "write a season's limits and parcels as CSV or GeoPackage"},
    {"query", cmd_query, "show a parcel's or a farmer's season, with a chart"},
    {"verify", cmd_verify, "re-derive every stored limit of a season and show what differs"},
    {"weather", cmd_weather, "import gridded weather or station records; show a weather file"},
    {"calibrate", cmd_calibrate, "fit the crop table's yield models to harvests, or check them"},
};

int main(int argc, char **argv)
{
    if (!getenv("GDAL_CACHEMAX"))
        parus_raster_set_cache_bytes((size_t)16 << 20);
    return cli_main(argc, argv, commands, sizeof commands / sizeof commands[0]);
}
