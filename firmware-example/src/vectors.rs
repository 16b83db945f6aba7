//! The device-specific part of the vector table: the mps2-an386's 32 external interrupts
//! (QEMU's `num-irq`), all on `DefaultHandler` (the firmware enables none of them). Supplied here
//! (cortex-m-rt's `device` feature) instead of cortex-m-rt's generic 240-entry table.

unsafe extern "C" {
    fn DefaultHandler();
}

/// External interrupts 0..32.
#[unsafe(link_section = ".vector_table.interrupts")]
#[unsafe(no_mangle)]
pub static __INTERRUPTS: [unsafe extern "C" fn(); 32] = [DefaultHandler; 32];
