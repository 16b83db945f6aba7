/* The baseline's five conv3x3-ReLU-maxpool2 layer shapes and their deterministic int8 data,
 * shared (by definition, not by code) with firmware-example/src/bin/layers.rs: both generate
 * the same tensors from the same LCG, so the two implementations can be compared bit for bit.
 * Mirror any change there. */
#ifndef TINYGENRE_LAYERS_H
#define TINYGENRE_LAYERS_H
#include <stdint.h>

#define N_LAYERS 5
/* {mels (H), frames (W), in_ch, out_ch, right shift, input zero point, output zero point} */
static const int32_t LAYERS[N_LAYERS][7] = {
    {128, 130, 1, 128, 7, 5, -128},
    {64, 65, 128, 64, 11, -128, -128},
    {32, 32, 64, 32, 10, -128, -100},
    {16, 16, 32, 16, 10, -100, -128},
    {8, 8, 16, 8, 9, -128, -128},
};

static inline uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s;
}
#endif
