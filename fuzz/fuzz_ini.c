/*
 * fuzz_ini.c - the configuration file reader (src/config.c over libinih): any byte string as a
 * parus.ini, through parus_config_load, the path `parus --config` takes.
 */
#include "fuzz_input.h"
#include "parus/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch_file(data, size, ".ini");
    parus_config cfg;
    parus_error err;
    if (!path)
        return 0;
    parus_config_init(&cfg);
    (void)parus_config_load(path, &cfg, &err);
    return 0;
}
