/*
 * parus/ingest.h - one tile into the store: the job of `parus ingest` and of the nightly run.
 *
 * For a tile: open and inspect it; recognise it by content fingerprint (a tile already stored is
 * not measured again, whatever its name); take the candidate parcels from the store's R-tree by
 * the tile's footprint; measure them all in one pass (kernel.h) and store the tile and one
 * observation per parcel that covers at least one pixel, in one transaction: after an error, a
 * crash or a kill, the tile is either fully in the store or not in it at all.
 */
#ifndef PARUS_INGEST_H
#define PARUS_INGEST_H

#include <stddef.h>

#include "parus/error.h"
#include "parus/export.h"
#include "parus/kernel.h"
#include "parus/raster.h"
#include "parus/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum parus_ingest_outcome {
    PARUS_INGEST_STORED = 0, /* measured and stored */
    PARUS_INGEST_KNOWN,      /* a tile with this content was already stored: nothing done */
    PARUS_INGEST_NO_OVERLAP  /* the tile covers no registered parcel: nothing stored */
} parus_ingest_outcome;

typedef struct parus_ingest_options {
    const char *band_map;       /* generic band roles, e.g. "red=3,nir=4"; NULL: automatic */
    bool band_map_generic_only; /* parus_tile_options: true for a configuration's map */
    /* An optical tile without a cloud mask (no SCL, QA_PIXEL, BQA or mask band) is refused
     * (E_BANDS): its clouds would count as clear observations. true accepts it (the user says
     * its clouds were removed before delivery). */
    bool no_cloud_mask_ok;
    /* The same for generic tiles only (a configuration's [raster] cloud_mask = off, set for a
     * site's own composites: a Sentinel-2 or Landsat product without its mask stays refused) */
    bool no_cloud_mask_generic_ok;
    const char *date; /* acquisition date override; NULL: from the tile */
    /* radar tiles that do not say it themselves (parus_tile_options): "linear"/"db",
     * "sigma0"/"gamma0"/"beta0"; NULL: from the tile */
    const char *radar_scale;
    const char *radar_coefficient;
    int n_threads;    /* kernel threads; 0: all cores */
    const char *hash; /* the tile's content fingerprint when the caller has just computed it
                         (64 hex digits, parus_tile_content_hash of the same files); NULL:
                         computed here. Saves reading the tile twice. */
    /* Called once, "tile:written", with every observation written and the tile's transaction not
     * yet committed (crash tests kill the process there; parus/assess.h); NULL: none. */
    parus_checkpoint_fn checkpoint;
    void *checkpoint_ctx;
} parus_ingest_options;

typedef struct parus_ingest_result {
    parus_ingest_outcome outcome;
    parus_tile_record rec;     /* STORED: the new record; KNOWN: the stored one; NO_OVERLAP:
                                  what would have been stored (id 0) */
    size_t n_candidates;       /* parcels whose footprint box meets the tile's */
    size_t n_observed;         /* observations stored */
    parus_measure_stats stats; /* of the pass (STORED only) */
} parus_ingest_result;

/* Ingest the tile made of the given files (one multi-band file, a directory, or the files of one
 * scene). Returns PARUS_OK with out->outcome for the three outcomes above; on an error nothing of
 * the tile is stored and the status says why (E_IO, E_FORMAT naming the file and block, E_NO_DATE,
 * E_BANDS, E_STORE, E_BUSY, ...). opt may be NULL. */
PARUS_API parus_status parus_ingest_tile(parus_store *store, const char *const *paths,
                                         size_t n_paths, const parus_ingest_options *opt,
                                         parus_ingest_result *out, parus_error *err);

#ifdef __cplusplus
}
#endif
#endif
