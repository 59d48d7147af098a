/*
 * radar_peers_int.h - the peer reference of the radar event rules in `parus assess`: per crop and
 * radar date, the peers' median VV and VH and their wet level (docs/method.md, section 9). Kept
 * as fixed histograms, so that its memory depends on the crops and dates, not on the parcels.
 * Not part of the public API.
 */
#ifndef PARUS_RADAR_PEERS_INT_H
#define PARUS_RADAR_PEERS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "parus/error.h"

typedef struct parus__radar_peers parus__radar_peers;

/* A new, empty reference; NULL when out of memory. */
parus__radar_peers *parus__radar_peers_new(void);
void parus__radar_peers_free(parus__radar_peers *p);

/* One parcel of crop index `crop` (>= 0): its n radar dates (ascending), VV and VH (linear
 * sigma0, NaN = none) and water fraction (NaN = none). Each date counts its VV and VH, and as its
 * wet level the parcel's highest water fraction within window_days of it. E_NOMEM. */
parus_status parus__radar_peers_add(parus__radar_peers *p, int crop, const int64_t *day,
                                    const double *vv, const double *vh, const double *water,
                                    size_t n, double window_days, parus_error *err);

/* At (crop, day): the peers' median VV and VH (linear) and the upper quartile of their wet
 * levels, each NaN where fewer than min_n peers gave one. Medians are read off histograms of 0.1 dB
 * (water: 0.01) and are the centre of their bin. */
void parus__radar_peers_get(const parus__radar_peers *p, int crop, int64_t day, size_t min_n,
                            double *vv, double *vh, double *wet);

#endif
