/*
 * assess_int.h - what `parus assess` and `parus verify` share, so that a stored limit can always
 * be re-derived by the very code that made it: the credit rule's view of a stored parcel result,
 * a crop's harvest day in a season, and the text of a limit's parts. Not part of the public API.
 */
#ifndef PARUS_ASSESS_INT_H
#define PARUS_ASSESS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/credit.h"
#include "parus/crops.h"
#include "parus/store.h"

/* The yield notes of a parcel result's flags that the credit rule reads
 * (parus_parcel_result.flags). */
#define PARUS_YIELD_NOTE_NO_WEATHER "YIELD_NO_WEATHER"
#define PARUS_YIELD_NOTE_BEYOND_CALIBRATION "YIELD_BEYOND_CALIBRATION"

/* The credit rule's evidence of a parcel from its result as stored (parcel_results): the
 * conservative value (0 without one), condition, crop probability and method, the event flags
 * (FLOOD, SUDDEN_LOSS) among its flag codes, planted and declared area (no area check without a
 * measured planted area), clear observations, and harvest_day (PARUS_CREDIT_NO_DAY none). assess
 * builds every limit through it from the rows it writes, verify from the rows it reads back:
 * whatever the credit rule needs must therefore be in the stored result. */
void parus__credit_parcel_of_result(const parus_parcel_result *r, int64_t harvest_day,
                                    parus_credit_parcel *out);

/* The crop's harvest day in the season [start_day, end_day] (day numbers): the later of its
 * cycles' harvest days on or after start_day, end_day when none falls in the next 400 days;
 * PARUS_CREDIT_NO_DAY for a NULL row (a crop not in the table). */
int64_t parus__crop_harvest_day(const parus_crop *row, int64_t start_day, int64_t end_day);

/* The limit's parts as "key=value;..." (limits.parts), in a fixed order. */
void parus__credit_parts_text(const parus_credit_result *c, char *buf, size_t n);

/* What one stored overlap takes off each of its two parcels' land under the policy's rule (hold:
 * all of both; first: the later parcel's share; split: half of each share), added to the
 * parcels' overlap shares (NULL: a parcel without a result) and capped at 1. Assess and verify
 * both go through it. */
void parus__overlap_add(parus_overlap_rule rule, const parus_overlap *o, double *share_a,
                        double *share_b);

/* A limit's reasons as stored (limits.reasons): the credit rule's codes, then UNKNOWN_CROP and
 * NOT_CLASSIFIED when a parcel got no value for those reasons. */
void parus__limit_reasons_text(uint32_t credit_reasons, bool unknown_crop, bool not_classified,
                               char *buf, size_t n);

#endif
