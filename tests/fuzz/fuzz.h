/* fuzz: what every harness of tests/fuzz defines for libFuzzer. */
#ifndef DUNGHAN_FUZZ_H
#define DUNGHAN_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

#endif
