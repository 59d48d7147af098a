/*
 * health_int.h - what the health rules share with their tests beyond the public API. Not part of
 * the public API.
 */
#ifndef PARUS_HEALTH_INT_H
#define PARUS_HEALTH_INT_H

#include <stddef.h>

/* The radar water rule's VV dip when nothing happened, in standard deviations of one date's VV
 * (dB): the mean and the spread of min(the highest of n_before dates, the highest of n_after
 * dates) minus the date, all of them independent and alike (normal). Counts from 1; more than 6
 * count as 6. */
void parus__radar_dip_null(size_t n_before, size_t n_after, double *mean_sd, double *spread_sd);

#endif
