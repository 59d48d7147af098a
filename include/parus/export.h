/* parus/export.h - symbol visibility for the public API (the library builds with hidden
 * visibility; only what is marked PARUS_API is exported). */
#ifndef PARUS_EXPORT_H
#define PARUS_EXPORT_H

#if defined(PARUS_BUILDING) && defined(__GNUC__)
#define PARUS_API __attribute__((visibility("default")))
#else
#define PARUS_API
#endif

#endif
