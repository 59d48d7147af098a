/*
 * parcel.c - releasing parcels and parcel sets (parus/parcels.h). The store hands out parcels too,
 * so this lives apart from the OGR reader in parcels.c: a program that only reads the store (the
 * query launcher) links none of GDAL or PROJ.
 */
#include <stdlib.h>
#include <string.h>

#include "parus/parcels.h"

void parus_parcel_release(parus_parcel *parcel)
{
    if (!parcel)
        return;
    free(parcel->id);
    free(parcel->farmer_id);
    free(parcel->wkb);
    memset(parcel, 0, sizeof *parcel);
}

void parus_parcel_set_release(parus_parcel_set *set)
{
    size_t i;
    if (!set)
        return;
    for (i = 0; i < set->n_parcels; i++)
        parus_parcel_release(&set->parcels[i]);
    for (i = 0; i < set->n_rejects; i++) {
        free(set->rejects[i].id);
        free(set->rejects[i].reason);
    }
    free(set->parcels);
    free(set->rejects);
    free(set->source_crs);
    memset(set, 0, sizeof *set);
}
