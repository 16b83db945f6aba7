//! Flash, static RAM and allocator symbols of a firmware ELF.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{Context, bail};
use object::{Object, ObjectSection, ObjectSymbol};
use serde::Serialize;

/// Flash and static RAM of the firmware, from the ELF's allocated sections.
#[derive(Debug, Clone, Serialize)]
pub struct ElfSizes {
    /// `.vector_table + .text + .rodata + .data` (the image written to flash).
    pub flash_bytes: u64,
    /// `.data + .bss + .uninit` (RAM reserved before the stack).
    pub static_ram_bytes: u64,
    /// Size of each of those sections.
    pub sections: BTreeMap<String, u64>,
    /// Whether any allocator symbol (`__rust_alloc`, `__rdl_alloc`, `__rg_alloc`) is linked.
    pub allocator_linked: bool,
}

/// Reads the section sizes and allocator symbols of `elf`.
pub fn elf_sizes(elf: &Path) -> anyhow::Result<ElfSizes> {
    let data = fs::read(elf).with_context(|| format!("reading {}", elf.display()))?;
    let file = object::File::parse(&*data)
        .with_context(|| format!("{} is not an ELF file", elf.display()))?;
    let mut sections = BTreeMap::new();
    let (mut flash, mut ram) = (0, 0);
    for s in file.sections() {
        let name = s.name().unwrap_or("");
        let size = s.size();
        match name {
            ".vector_table" | ".text" | ".rodata" => flash += size,
            ".data" => {
                flash += size;
                ram += size;
            }
            ".bss" | ".uninit" => ram += size,
            _ => continue,
        }
        sections.insert(name.to_string(), size);
    }
    if !sections.contains_key(".text") {
        bail!("{}: no .text section (not the firmware?)", elf.display());
    }
    let allocator_linked = file.symbols().any(|s| {
        s.name().is_ok_and(|n| {
            n.contains("__rust_alloc") || n.contains("__rdl_alloc") || n.contains("__rg_alloc")
        })
    });
    Ok(ElfSizes {
        flash_bytes: flash,
        static_ram_bytes: ram,
        sections,
        allocator_linked,
    })
}
