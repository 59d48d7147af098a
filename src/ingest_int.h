/*
 * ingest_int.h - what ingest.c needs of the store beyond its public API (defined in store.c):
 * the candidate walk with each parcel's row number, and observations added by that number, so
 * that storing a tile's 143,000 observations does not look each parcel up by its id again.
 * Not part of the public API.
 */
#ifndef PARUS_INGEST_INT_H
#define PARUS_INGEST_INT_H

#include <stddef.h>
#include <stdint.h>

#include "parus/store.h"

/* A parcel of the walk (borrowed until fn returns) and its row number in the store. */
typedef int (*parus__parcel_num_visit_fn)(const parus_parcel *p, int64_t num, void *ctx);

/* parus_store_parcels_in_box, handing each parcel's row number to fn beside it. The store also
 * notes (SQLite) whether anything was committed by another connection since: a tile begun next
 * on this handle takes the numbers given to parus__store_tile_add_num as they are only when
 * nothing was, and else looks each parcel up by its id as parus_store_tile_add does. */
parus_status parus__store_parcels_in_box_num(parus_store *store, double lon_min_deg,
                                             double lat_min_deg, double lon_max_deg,
                                             double lat_max_deg, parus__parcel_num_visit_fn fn,
                                             void *ctx, size_t *n_visited, parus_error *err);

/* parus_store_tile_begin for a tile the caller already knows to be the same acquisition as a
 * stored one (and will refuse after its pass, so that a damaged copy is refused for its damage):
 * the transaction's own look for such a tile is left out. */
parus_status parus__store_tile_begin_twin(parus_store *store, parus_tile_record *rec,
                                          parus_error *err);

/* A stored tile (rec as parus_store_find_tile gave it) opened again for the observations of
 * parcels registered after it was stored: parus__store_tile_add_num adds them, the commit adds
 * their number to the tile's count and owes the seasons whose window holds its date
 * (stale_cause "tile HASH of DATE measured N parcels registered since"), the abort leaves the
 * tile as it was. PARUS_E_NOT_FOUND when the tile is no longer stored. */
parus_status parus__store_tile_extend_begin(parus_store *store, parus_tile_record *rec,
                                            parus_error *err);

/* How a stored tile's pixels were read (parus_tile_record.reading) into out; "" not recorded. */
parus_status parus__store_tile_reading(parus_store *store, int64_t tile_id, char out[17],
                                       parus_error *err);

/* The row numbers of the parcels a stored tile measured (optical and radar), ascending, into
 * *nums, and for each whether the tile's mask took part of it (*masked: its clear fraction below
 * 0.999) (both malloc'd; the caller frees them; NULL when none). */
parus_status parus__store_tile_observed_nums(parus_store *store, int64_t tile_id, int64_t **nums,
                                             bool **masked, size_t *n, parus_error *err);

/* parus_store_tile_add for the parcel that the last walk above gave as (parcel_id, num); the
 * caller changes no parcel on this handle between the walk and the tile. */
parus_status parus__store_tile_add_num(parus_store *store, const parus_tile_record *rec,
                                       const char *parcel_id, int64_t num,
                                       const struct parus_observation *obs, parus_error *err);

#endif
