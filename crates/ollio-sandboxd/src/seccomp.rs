//! The jail's seccomp filter: system calls no sandbox needs and that widen
//! the kernel's attack surface answer `EPERM`; everything else is allowed.
//! It is built once with `seccompiler` and handed to bubblewrap
//! (`--seccomp FD`), which installs it just before it starts the guest, so
//! the guest and everything it starts run under it.
//!
//! Refused: io_uring; the key management calls; userfaultfd;
//! perf_event_open; bpf; kexec; the mount family; ptrace and reading or
//! writing another process's memory; changing the personality (only
//! querying it and the harmless settings Docker also allows pass); loading
//! kernel modules, swap, reboot, accounting, quotas, the kernel log and
//! setting the clock; and on x86-64 every x32-ABI call.

use std::{collections::BTreeMap, sync::OnceLock};

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};

/// Refused outright, by name (the names are what the tests and the docs use).
pub const REFUSED: &[(&str, i64)] = &[
    ("io_uring_setup", libc::SYS_io_uring_setup),
    ("io_uring_enter", libc::SYS_io_uring_enter),
    ("io_uring_register", libc::SYS_io_uring_register),
    ("keyctl", libc::SYS_keyctl),
    ("add_key", libc::SYS_add_key),
    ("request_key", libc::SYS_request_key),
    ("userfaultfd", libc::SYS_userfaultfd),
    ("perf_event_open", libc::SYS_perf_event_open),
    ("bpf", libc::SYS_bpf),
    ("kexec_load", libc::SYS_kexec_load),
    ("kexec_file_load", libc::SYS_kexec_file_load),
    ("mount", libc::SYS_mount),
    ("umount2", libc::SYS_umount2),
    ("pivot_root", libc::SYS_pivot_root),
    ("open_tree", libc::SYS_open_tree),
    ("move_mount", libc::SYS_move_mount),
    ("fsopen", libc::SYS_fsopen),
    ("fsconfig", libc::SYS_fsconfig),
    ("fsmount", libc::SYS_fsmount),
    ("fspick", libc::SYS_fspick),
    ("mount_setattr", libc::SYS_mount_setattr),
    ("ptrace", libc::SYS_ptrace),
    ("process_vm_readv", libc::SYS_process_vm_readv),
    ("process_vm_writev", libc::SYS_process_vm_writev),
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
    ("init_module", libc::SYS_init_module),
    ("finit_module", libc::SYS_finit_module),
    ("delete_module", libc::SYS_delete_module),
    ("swapon", libc::SYS_swapon),
    ("swapoff", libc::SYS_swapoff),
    ("reboot", libc::SYS_reboot),
    ("acct", libc::SYS_acct),
    ("quotactl", libc::SYS_quotactl),
    ("syslog", libc::SYS_syslog),
    ("settimeofday", libc::SYS_settimeofday),
    ("clock_settime", libc::SYS_clock_settime),
    ("clock_adjtime", libc::SYS_clock_adjtime),
    ("adjtimex", libc::SYS_adjtimex),
];

/// `personality` arguments that pass: the query and what Docker's default
/// profile allows (`PER_LINUX`, `UNAME26`, `PER_LINUX32` and both).
const PERSONALITIES: &[u64] = &[0, 0x0008, 0x0002_0000, 0x0002_0008, 0xffff_ffff];

/// x32-ABI calls on x86-64 have this bit set in their number.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// The filter as bubblewrap reads it: `struct sock_filter`s, in the
/// machine's byte order. Built on first use.
pub fn program() -> Result<&'static [u8], String> {
    static PROGRAM: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    PROGRAM
        .get_or_init(build)
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

fn build() -> Result<Vec<u8>, String> {
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|_| format!("no seccomp filter for {}", std::env::consts::ARCH))?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = REFUSED
        .iter()
        .map(|(_, number)| (*number, Vec::new()))
        .collect();
    let other_personality = PERSONALITIES
        .iter()
        .map(|allowed| {
            SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, *allowed)
        })
        .collect::<Result<Vec<_>, _>>()
        .and_then(SeccompRule::new)
        .map_err(|error| error.to_string())?;
    rules.insert(libc::SYS_personality, vec![other_personality]);
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(|error| error.to_string())?;
    let compiled: BpfProgram = filter
        .try_into()
        .map_err(|error: seccompiler::BackendError| error.to_string())?;
    let mut program = x32_prefix();
    program.extend(compiled.iter().map(|op| (op.code, op.jt, op.jf, op.k)));
    Ok(program
        .into_iter()
        .flat_map(|(code, jt, jf, k)| {
            let mut bytes = Vec::with_capacity(8);
            bytes.extend_from_slice(&code.to_ne_bytes());
            bytes.extend_from_slice(&[jt, jf]);
            bytes.extend_from_slice(&k.to_ne_bytes());
            bytes
        })
        .collect())
}

/// Before seccompiler's program (which checks the architecture first):
/// a call numbered with the x32 bit answers `EPERM`, so no refused call can
/// be reached through its x32 twin. Jumps are relative, so the program
/// after it is unchanged.
fn x32_prefix() -> Vec<(u16, u8, u8, u32)> {
    const LOAD_NR: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS, offset 0: the number
    const JGE: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
    const RET: u16 = 0x06; // BPF_RET | BPF_K
    const RET_ERRNO: u32 = 0x0005_0000; // SECCOMP_RET_ERRNO
    if !cfg!(target_arch = "x86_64") {
        return Vec::new();
    }
    vec![
        (LOAD_NR, 0, 0, 0),
        (JGE, 0, 1, X32_SYSCALL_BIT),
        (RET, 0, 0, RET_ERRNO | libc::EPERM as u32),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_filter_builds_for_this_machine() {
        let program = super::program().unwrap();
        assert_eq!(program.len() % 8, 0);
        // Every refused call, the personality rule and the prefix fit
        // bubblewrap's and the kernel's limits (4096 instructions).
        assert!(
            program.len() / 8 < 512,
            "{} instructions",
            program.len() / 8
        );
    }
}
