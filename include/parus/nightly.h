/*
 * parus/nightly.h - the nightly job: everything new in an inbox into the store, unattended.
 *
 * A run scans the inbox, groups its files into tiles (docs/operations.md has the rules: a
 * multi-band file, a per-scene subdirectory, or loose single-band files of one scene), leaves
 * alone what is still being written, recognises tiles already stored by content fingerprint (not
 * by name or time), ingests the new ones in acquisition-date order (parus_ingest_tile: one
 * transaction per tile), moves processed tiles to a done directory, sets unusable ones aside in
 * a quarantine directory with a reason file, and records the run in the store.
 *
 * Weather files lie in the same inbox, beside the tiles: a loose file that
 * parus_weather_file_kind_of (parus/weather.h) calls weather (a .nc or .grib name, a station CSV
 * by its header, a GeoTIFF with VARIABLE metadata: never a tile, and a tile never one) is
 * imported as `parus weather import` imports it (parus_weather_import, with no --unit or
 * --variable: a file that needs them is set aside with a message naming the option, to be
 * imported by hand). Weather files go first, in name order, each in one transaction, before any
 * tile is measured; the two touch different tables, so the order changes nothing stored. A file
 * whose content the store holds is "known", stores nothing and leaves the inbox; one that cannot
 * be read, whose units are unknown or contradicted by its values, or whose values disagree with
 * stored weather (E_DUPLICATE) is set aside exactly as a bad tile is, nothing of it stored. After
 * the tiles, every parcel is weighed on every stored weather grid whose weights it lacks
 * (parus_weather_weights_update: a no-op without weather), so a run killed between a weather
 * file's commit and the weights, or parcels loaded since, are weighed by the next run. A
 * sharded run (shard_count > 1) leaves weather files in the inbox, logged: shard stores are
 * combined by parus_store_merge, which copies no weather.
 *
 * Crash safety rests on the order of events: a tile's transaction commits before the tile is
 * moved out of the inbox, and moves are renames within one file system. A kill at any moment
 * leaves either a tile not stored (ingested by the next run), or stored and still in the inbox
 * (recognised by fingerprint and moved by the next run).
 *
 * One run at a time: parus_nightly_lock_acquire takes an fcntl write lock on "<db>.lock" for the
 * life of the lock object; the kernel drops it when the process dies, however it dies.
 *
 * After ingest, when options name a season to assess (opt->assess), the run assesses it end to
 * end (parus_assess_run: crops, condition, value, limits; parus/assess.h) if the season is owed
 * an assessment (or always, with assess_always). The store knows what is owed: a tile of the
 * season's window stored (by this run, or by an earlier one that was killed or failed before its
 * assessment committed) makes the season stale in the tile's own transaction, and only the
 * transaction that commits the season's results clears it (parus_store_season_track). So a run
 * killed at any point, in its ingest or in its assessment, is finished by the next run even when
 * no tile is new. The ingest is committed tile by tile before: an assessment that fails loses
 * nothing ingested; the run reports it in stats (assess_code) and in its log, the season stays
 * owed, and the next run tries again.
 */
#ifndef PARUS_NIGHTLY_H
#define PARUS_NIGHTLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/assess.h"
#include "parus/error.h"
#include "parus/export.h"
#include "parus/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Seconds a file must have been left untouched before it counts as delivered. */
#define PARUS_NIGHTLY_SETTLE_S_DEFAULT 60.0

typedef enum parus_log_level {
    PARUS_LOG_DEBUG = 0,
    PARUS_LOG_INFO,
    PARUS_LOG_WARN,
    PARUS_LOG_ERROR
} parus_log_level;

/* One event of the run as key=value pairs ("tile=/srv/inbox/a.tif outcome=stored parcels=12"),
 * values with spaces, quotes or '=' in double quotes; no time, level or newline (the caller adds
 * them). line is borrowed for the call. */
typedef void (*parus_nightly_log_fn)(void *ctx, parus_log_level level, const char *line);
/* Called after each tile or weather file with the number handled so far and the number to
 * handle. */
typedef void (*parus_nightly_progress_fn)(void *ctx, size_t n_done, size_t n_total);

typedef struct parus_nightly_options {
    const char *inbox;          /* required */
    const char *done_dir;       /* NULL or "": processed tiles stay in the inbox */
    const char *quarantine_dir; /* NULL or "": INBOX/.quarantine */
    double settle_s;            /* a file changed less than this long ago is not ready yet */
    unsigned shard_index;       /* this run takes the tiles whose shard is shard_index ... */
    unsigned shard_count;       /* ... of shard_count; 0 or 1: every tile */
    const char *band_map;       /* generic band roles (parus_ingest_options); NULL: automatic */
    bool band_map_generic_only; /* parus_tile_options: true for a configuration's map */
    bool no_cloud_mask_ok;      /* parus_ingest_options */
    bool no_cloud_mask_generic_ok;
    int n_threads;       /* kernel threads; 0: all cores */
    const char *command; /* run record: the program and its arguments (NULL: "nightly") */
    const char *args;
    parus_nightly_log_fn log; /* NULL: no log */
    void *log_ctx;
    parus_nightly_progress_fn progress; /* NULL: none */
    void *progress_ctx;
    /* The season to assess after ingest (its run_id is replaced by this run's); NULL: none. */
    const parus_assess_options *assess;
    bool assess_always; /* assess even when the season is not owed an assessment */
    /* The season whose standing the run tracks ("YYYY-MM-DD/YYYY-MM-DD"); NULL: assess's season.
     * Given without assess (the assessment's inputs could not be loaded), the run still reports
     * whether the season is owed an assessment (stats->owed) that it could not run. */
    const char *season;
    /* Called at each step: "run:started", "inbox:scanned", per weather file "weather:written"
     * (inside its transaction), "weather:stored" (committed, not yet moved), "weather:moved"
     * (a known file: only this), per tile "tile:written" (inside its transaction), "tile:stored"
     * (committed, not yet moved), "tile:moved", then "weather:weighed" (when the store holds
     * weather), "ingest:done", the assessment's own (parus_assess_options), "assess:done" and
     * "run:ended"; NULL: none. */
    parus_checkpoint_fn checkpoint;
    void *checkpoint_ctx;
} parus_nightly_options;

typedef struct parus_nightly_stats {
    int64_t run_id;        /* the run's row in the store's runs table (0 if not recorded) */
    size_t n_seen;         /* tiles found in the inbox (ready or not) */
    size_t n_not_ready;    /* tiles and weather files still being written: left for later */
    size_t n_other_shard;  /* ready tiles that belong to another shard */
    size_t n_new;          /* ready tiles of this shard not in the store when scanned */
    size_t n_stored;       /* measured and stored by this run */
    size_t n_known;        /* already stored (by an earlier run, or a copy in this inbox) */
    size_t n_no_overlap;   /* cover no registered parcel: left in the inbox */
    size_t n_quarantined;  /* set aside with a reason file */
    size_t n_ignored;      /* entries that are not tiles (left alone) */
    size_t n_moved;        /* tiles and weather files moved to the done directory */
    size_t n_observations; /* observations stored by this run */
    /* weather files (counted apart from the tiles above, but for n_not_ready and n_moved) */
    size_t n_weather_seen;        /* found in the inbox (ready or not) */
    size_t n_weather_stored;      /* imported by this run */
    size_t n_weather_known;       /* already stored (same content): nothing stored */
    size_t n_weather_quarantined; /* set aside with a reason file, nothing of them stored */
    size_t n_weather_values;      /* cell-day-variable values they stored */
    size_t n_weather_left;        /* left in the inbox by a sharded run (never taken by one) */
    double seconds;               /* wall time of the run */
    /* the season's standing (when a season is tracked) */
    bool owed_at_start;   /* the season was owed an assessment before this run stored anything:
                             an earlier run was killed or its assessment failed */
    bool owed;            /* still owed when the run ended (stale; an assessment failed or could
                             not run) */
    char owed_cause[160]; /* why it was owed at the start ("" when not) */
    size_t n_other_owed;  /* other tracked seasons that are owed an assessment (logged) */
    /* the assessment after ingest */
    const char *assess_cause; /* "owed" (owed at the start), "new_tiles", "new_weather" (what
                                 first made it owed in this run, by the store's stale_cause: a
                                 tile of its window, weather within its reach), "asked"
                                 (assess_always),
                                 "inputs_changed" (the model, crop table, policy or debts file
                                 the run was given differ from those the season's stored limits
                                 were computed with), or NULL when it did not run */
    char inputs_changed[80];  /* which of them ("policy", "crop table;debts file"), "" none */
    bool assessed;            /* it ran (successfully or not) */
    parus_status assess_code; /* PARUS_OK, or why it failed (nothing of it is stored) */
    char assess_error[PARUS_ERROR_MSG_MAX];
    parus_assess_stats assess; /* its figures when assess_code is PARUS_OK */
} parus_nightly_stats;

/* Defaults: settle PARUS_NIGHTLY_SETTLE_S_DEFAULT, no sharding, everything else NULL/0. */
PARUS_API void parus_nightly_options_init(parus_nightly_options *opt);

/* Parse "I/N" (0 <= I < N, 1 <= N <= 65536). E_INVALID otherwise. */
PARUS_API parus_status parus_nightly_shard_parse(const char *s, unsigned *index, unsigned *count,
                                                 parus_error *err);
/* The shard of a content fingerprint: its first 16 hex digits as an unsigned 64-bit number,
 * modulo count. The same tile gets the same shard on every host. */
PARUS_API unsigned parus_nightly_shard_of(const char *hash_hex, unsigned count);

typedef struct parus_nightly_lock parus_nightly_lock;

/* Take the lock of the store at db_path: an fcntl write lock on "<db_path>.lock" (created if
 * absent), with this process's pid written in it. Returns at once: E_BUSY when another process
 * holds it (the message names its pid). *dead_pid is set to the pid left in the file by a process
 * that is no longer alive (a run that crashed or was killed), else 0. E_IO when the lock file
 * cannot be created. */
PARUS_API parus_status parus_nightly_lock_acquire(const char *db_path, parus_nightly_lock **out,
                                                  long *dead_pid, parus_error *err);
/* Empty the lock file and release the lock. NULL is accepted. */
PARUS_API void parus_nightly_lock_release(parus_nightly_lock *lock);

/* One run over the inbox. Returns PARUS_OK when the run went through (stats says what happened:
 * quarantined tiles or weather files are not an error, nor a failed assessment: see
 * stats->assess_code). Errors that stop the run: E_IO (inbox missing or unreadable, a done or
 * quarantine directory that cannot be made or written), E_CONFIG (a done or quarantine directory
 * on another file system than the inbox: moves must be renames), and every store error (E_STORE
 * incl. a full disk, E_BUSY, E_SCHEMA) and E_NOMEM: the tile or weather file being stored is
 * rolled back and nothing is set aside because of them; E_PROJ when parcels cannot be weighed on
 * a stored weather grid (its CRS cannot be reached from WGS 84: every import is kept, the
 * assessment does not run). *stats is filled in every case, with the counts so far. Hold the lock
 * (above) around the run. */
PARUS_API parus_status parus_nightly_run(parus_store *store, const parus_nightly_options *opt,
                                         parus_nightly_stats *stats, parus_error *err);

/* ---- grouping, exposed for tests and tools ---- */

/* The scene key of a loose file name: the name without its extension and without its one band
 * token (B13, SR_B4, QA_PIXEL, CMASK, SCL, ...), e.g. "CBERS-4_AWFI_022024_B15_2018-02-02.tif"
 * -> "CBERS-4_AWFI_022024_*_2018-02-02". Files with the same key form one tile. A name with no
 * band token or with several (a multi-band file) is its own tile: false is returned and key holds
 * the name. */
PARUS_API bool parus_nightly_scene_key(const char *name, char *key, size_t key_size);

#ifdef __cplusplus
}
#endif
#endif
