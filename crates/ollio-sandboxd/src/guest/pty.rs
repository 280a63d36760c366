//! Commands on a pseudo-terminal (envd's `pty`, the SDKs' `sandbox.pty`):
//! the command leads a new session whose controlling terminal is the pty's
//! slave end; what it writes is read from the master end as it comes,
//! input is written to the master, and a resize sets the master's window
//! size (the command gets SIGWINCH). The master is read without blocking,
//! so an idle terminal holds no thread.

use std::{
    io,
    os::fd::{AsRawFd, FromRawFd, OwnedFd},
};

use tokio::io::unix::AsyncFd;

use crate::guest_protocol::PtySize;

/// The master end of a command's pty.
pub(super) struct Master {
    fd: AsyncFd<OwnedFd>,
}

fn winsize(size: PtySize) -> libc::winsize {
    libc::winsize {
        ws_row: size.rows.max(1),
        ws_col: size.cols.max(1),
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

/// A new pty of `size`: its master (non-blocking) and its slave, neither
/// inherited by commands (the slave is handed to one as its stdio).
pub(super) fn open(size: PtySize) -> io::Result<(Master, OwnedFd)> {
    let (mut master, mut slave) = (-1, -1);
    let size = winsize(size);
    // SAFETY: openpty writes the two descriptors it opened into the ints
    // and reads the window size; no name or termios is asked for.
    check(unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    })?;
    // SAFETY: both were just opened here and belong to nothing else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    for fd in [&master, &slave] {
        // SAFETY: fcntl on a descriptor this function owns.
        check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) })?;
    }
    // SAFETY: as above; O_NONBLOCK for the reactor.
    let flags = check(unsafe { libc::fcntl(master.as_raw_fd(), libc::F_GETFL) })?;
    check(unsafe { libc::fcntl(master.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    // SAFETY: the OwnedFd is valid, and only the AsyncFd holds and closes it.
    let fd = unsafe { AsyncFd::register(master) }?;
    Ok((Master { fd }, slave))
}

/// In the child, before it runs the command: a session of its own, with
/// its stdin (the slave) as the controlling terminal.
pub(super) fn take_terminal() -> io::Result<()> {
    // SAFETY: setsid and ioctl are async-signal-safe and share no memory.
    unsafe {
        check(libc::setsid())?;
        check(libc::ioctl(0, libc::TIOCSCTTY, 0))?;
    }
    Ok(())
}

impl Master {
    /// Reads what the command wrote; `Ok(0)` once every slave is closed
    /// (Linux answers the master's read with EIO then).
    pub async fn read(&self, buffer: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut ready = self.fd.readable().await?;
            // SAFETY: read(2) into a buffer of the length given.
            let read = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len(),
                )
            };
            if read >= 0 {
                return Ok(read as usize);
            }
            let error = io::Error::last_os_error();
            match error.raw_os_error() {
                Some(libc::EAGAIN) => ready.clear_ready(),
                Some(libc::EINTR) => {}
                Some(libc::EIO) => return Ok(0),
                _ => return Err(error),
            }
        }
    }

    /// Writes all of `data` as the terminal's input.
    pub async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let mut ready = self.fd.writable().await?;
            // SAFETY: write(2) from a buffer of the length given.
            let written =
                unsafe { libc::write(self.fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
            if written >= 0 {
                data = &data[written as usize..];
                continue;
            }
            let error = io::Error::last_os_error();
            match error.raw_os_error() {
                Some(libc::EAGAIN) => ready.clear_ready(),
                Some(libc::EINTR) => {}
                _ => return Err(error),
            }
        }
        Ok(())
    }

    pub fn resize(&self, size: PtySize) -> io::Result<()> {
        let size = winsize(size);
        // SAFETY: TIOCSWINSZ reads a winsize from the pointer.
        check(unsafe { libc::ioctl(self.fd.as_raw_fd(), libc::TIOCSWINSZ, &size) })?;
        Ok(())
    }
}
