//! The trainer's allocator keeps freed memory: after `keep_freed_memory`, freeing a large buffer
//! and allocating it again costs no page faults, where mimalloc's default purging faults it in
//! again. Linux only (minor page faults from /proc/self/stat).

#[global_allocator]
static GLOBAL: trainer::base::alloc::Allocator = trainer::base::alloc::Allocator;

use std::time::Duration;

const BUF: usize = 64 << 20; // 64 MiB: one large activation tensor
/// A second, smaller buffer whose free gives mimalloc the occasion to purge.
const OTHER: usize = 4 << 20;
const ROUNDS: usize = 3;
/// Longer than mimalloc v3's default purge delay (1000 ms).
const PAUSE: Duration = Duration::from_millis(1200);

/// Minor page faults of this process so far (field 10 of /proc/self/stat).
fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // the command name (field 2) is in parentheses and may hold spaces: count after it
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(7)?.parse().ok()
}

/// Allocates a buffer of `bytes`, touches every page and frees it.
fn touch_and_free(bytes: usize) {
    std::hint::black_box(vec![1u8; bytes]);
}

/// Page faults of `ROUNDS` rounds of: allocate the large buffer, touch every page, free it, wait
/// past the purge delay, then free another page, which is when mimalloc runs due purges.
fn faults_of_rounds() -> u64 {
    // a first round so that the arena holding the buffer exists in either case
    touch_and_free(BUF);
    touch_and_free(OTHER);
    let before = minor_faults().expect("minor faults");
    for _ in 0..ROUNDS {
        touch_and_free(BUF);
        std::thread::sleep(PAUSE);
        touch_and_free(OTHER);
    }
    minor_faults().expect("minor faults") - before
}

#[test]
fn freed_memory_is_reused_without_page_faults() {
    if minor_faults().is_none() {
        println!("skipped: no /proc/self/stat on this system");
        return;
    }
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        println!("skipped: MIMALLOC_PURGE_DELAY is set in the environment");
        return;
    }
    let pages = (BUF / 4096) as u64;

    // mimalloc's default: the buffer is purged (at most once per delay), so a later round faults
    // it in again (fewer faults than pages when the kernel backs it with 2 MiB pages)
    assert_eq!(
        trainer::base::alloc::purge_delay_ms(),
        1000,
        "mimalloc v3's default purge delay"
    );
    let default = faults_of_rounds();

    trainer::base::alloc::keep_freed_memory();
    assert_eq!(trainer::base::alloc::purge_delay_ms(), -1);
    let kept = faults_of_rounds();
    println!(
        "minor page faults over {ROUNDS} rounds of a {} MiB buffer: default {default}, kept {kept} ({pages} pages per buffer)",
        BUF >> 20
    );
    assert!(
        default >= 32,
        "by default the buffer should be purged and faulted in again at least once (32 faults of 2 MiB pages), got {default}"
    );
    assert!(
        kept * 4 < default,
        "with purging off a round should reuse the freed pages: {kept} faults vs {default} by default"
    );
}
