/* CMSIS-NN side-by-side peer for tinygenre's int8 conv kernels (issue 13).
 *
 * Runs the baseline's five conv3x3 layer shapes through arm_convolve_s8 then arm_max_pool_s8
 * (2x2, stride 2) on deterministic data (layers.h), counts instructions the way the firmware
 * does (QEMU mps2-an386, -icount shift=0: one SysTick tick = 40 instructions) and prints, per
 * layer, the counts and an FNV-1a hash of the pooled int8 output over semihosting.
 * Bare metal, no libc startup: our own vector table, semihosting calls and number printing.
 * CMSIS-NN's sources are compiled from ../shared/peers/cmsis-nn by bench-cmsis-nn.sh; none of
 * its code is copied here. */
#include <stdint.h>
#include <string.h>
#include "arm_nnfunctions.h"
#include "layers.h"

/* ---- startup ---- */
extern uint32_t _data, _edata, _data_load, _bss, _ebss, _stack_top;
int main(void);
void reset(void);
static volatile uint32_t wraps;
static void systick(void) { wraps++; }
static void hang(void) { for (;;) {} }
__attribute__((section(".vectors"), used)) static const void *vectors[16] = {
    &_stack_top, reset, hang, hang, hang, hang, hang, 0, 0, 0, 0, hang, hang, 0, hang, systick,
};

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
static void put(const char *s) { semihost(0x04, s); }
static void exit_with(int code)
{
    uint32_t block[2] = {0x20026, (uint32_t)code}; /* ADP_Stopped_ApplicationExit */
    semihost(0x20, block);
    hang();
}
void reset(void)
{
    uint32_t *src = &_data_load;
    for (uint32_t *d = &_data; d < &_edata;) *d++ = *src++;
    for (uint32_t *d = &_bss; d < &_ebss;) *d++ = 0;
    /* enable the FPU (CP10, CP11) */
    *(volatile uint32_t *)0xE000ED88 |= 0xF << 20;
    exit_with(main());
}

/* ---- instruction counter: SysTick, core clock, full 24-bit range, wraps counted ---- */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)
#define ICSR (*(volatile uint32_t *)0xE000ED04)
static uint64_t ticks(void)
{
    for (;;) {
        uint32_t w1 = wraps, v = SYST_CVR, pending = (ICSR >> 26) & 1, w2 = wraps;
        if (w1 != w2) continue;
        uint64_t extra = pending && v > 0x7FFFFF;
        return ((uint64_t)w1 + extra) * 0x1000000u + (0xFFFFFFu - v);
    }
}

static void put_u64(uint64_t v)
{
    char b[24];
    int i = 23;
    b[i] = 0;
    do { b[--i] = '0' + (char)(v % 10); v /= 10; } while (v);
    put(b + i);
}
static void put_hex(uint32_t v)
{
    char b[9];
    for (int i = 7; i >= 0; i--, v >>= 4) b[i] = "0123456789abcdef"[v & 15];
    b[8] = 0;
    put(b);
}

/* ---- buffers (largest layer: 128 x 130 x 128 conv output) ---- */
static int8_t input[64 * 65 * 128];
static int8_t conv_out[128 * 130 * 128];
static int8_t pooled[64 * 65 * 128];
static int8_t weights[64 * 9 * 128];
static int32_t bias[128], mult[128], shift[128];
static int16_t scratch[4 * 9 * 128 * 2];

int main(void)
{
    SYST_RVR = 0xFFFFFF;
    SYST_CVR = 0;
    SYST_CSR = 7; /* core clock, interrupt, enable */
    while (SYST_CVR == 0) {
    } /* the first reload */
    /* calibration: 2,000,000 iterations of subs/bne = 4,000,000 instructions */
    uint64_t c0 = ticks();
    __asm__ volatile("1: subs %0, %0, #1\n bne 1b" : "+r"((uint32_t){2000000}) : : "cc");
    uint64_t cal = ticks() - c0;
    put("cmsis-nn 1 calibration ticks=");
    put_u64(cal);
    put("\n");
    for (int l = 0; l < N_LAYERS; l++) {
        const int32_t h = LAYERS[l][0], w = LAYERS[l][1], ci = LAYERS[l][2], co = LAYERS[l][3];
        const int32_t rshift = LAYERS[l][4], izp = LAYERS[l][5], ozp = LAYERS[l][6];
        uint32_t s = 1 + (uint32_t)l;
        for (int32_t i = 0; i < h * w * ci; i++) input[i] = (int8_t)(lcg(&s) >> 24);
        for (int32_t i = 0; i < co * 9 * ci; i++) {
            int8_t v = (int8_t)(lcg(&s) >> 24);
            weights[i] = v == -128 ? -127 : v;
        }
        for (int32_t o = 0; o < co; o++) {
            bias[o] = (int32_t)((lcg(&s) >> 16) % 4001u) - 2000;
            mult[o] = (int32_t)(0x40000000u + (lcg(&s) >> 2));
            shift[o] = -rshift;
        }
        cmsis_nn_context ctx = {scratch, sizeof scratch};
        cmsis_nn_conv_params cp = {-izp, ozp, {1, 1}, {1, 1}, {1, 1}, {ozp > -128 ? ozp : -128, 127}};
        cmsis_nn_per_channel_quant_params qp = {mult, shift};
        cmsis_nn_dims in_d = {1, h, w, ci}, f_d = {co, 3, 3, ci}, b_d = {1, 1, 1, co};
        cmsis_nn_dims up_d = {1, 1, 1, 1}, out_d = {1, h, w, co};
        int32_t need = arm_convolve_s8_get_buffer_size(&in_d, &f_d);
        if (need > (int32_t)sizeof scratch) {
            put("error: scratch too small\n");
            return 2;
        }
        uint64_t t0 = ticks();
        arm_cmsis_nn_status st = arm_convolve_s8(&ctx, &cp, &qp, &in_d, input, &f_d, weights, &b_d,
                                                 bias, &up_d, &out_d, conv_out);
        uint64_t t1 = ticks();
        cmsis_nn_pool_params pp = {{2, 2}, {0, 0}, {-128, 127}};
        cmsis_nn_dims pin = {1, h, w, co}, pf = {1, 2, 2, 1}, pout = {1, h / 2, w / 2, co};
        arm_cmsis_nn_status st2 = arm_max_pool_s8(&ctx, &pp, &pin, conv_out, &pf, &pout, pooled);
        uint64_t t2 = ticks();
        if (st != ARM_CMSIS_NN_SUCCESS || st2 != ARM_CMSIS_NN_SUCCESS) {
            put("error: CMSIS-NN status\n");
            return 3;
        }
        uint32_t fnv = 0x811c9dc5u;
        for (int32_t i = 0; i < (h / 2) * (w / 2) * co; i++) fnv = (fnv ^ (uint8_t)pooled[i]) * 0x01000193u;
        put("layer ");
        put_u64((uint64_t)l);
        put(" macs=");
        put_u64((uint64_t)h * w * 9 * ci * co);
        put(" conv=");
        put_u64((t1 - t0) * 40);
        put(" pool=");
        put_u64((t2 - t1) * 40);
        put(" out_fnv=");
        put_hex(fnv);
        put("\n");
    }
    put("done\n");
    return 0;
}
