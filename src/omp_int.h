/*
 * omp_int.h - OpenMP behind one small header, so no module needs #ifdef _OPENMP: pragmas through
 * _Pragma, and serial stand-ins for the runtime calls when OpenMP is off.
 */
#ifndef PARUS_OMP_INT_H
#define PARUS_OMP_INT_H

#ifdef _OPENMP
#include <omp.h>
#define PARUS_PRAGMA_(x) _Pragma(#x)
#define PARUS_OMP(x) PARUS_PRAGMA_(omp x)
static inline int parus__omp_thread(void)
{
    return omp_get_thread_num();
}
static inline int parus__omp_max_threads(void)
{
    return omp_get_max_threads();
}
#else
#define PARUS_OMP(x)
static inline int parus__omp_thread(void)
{
    return 0;
}
static inline int parus__omp_max_threads(void)
{
    return 1;
}
#endif

#endif
