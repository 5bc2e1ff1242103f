//! Dropping a `TcpStream` closes it: the descriptor is freed at once and
//! the peer reads EOF. (Linux: the check looks in `/proc/self/fd`.)
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::thread;

fn is_open(fd: i32) -> bool {
    Path::new(&format!("/proc/self/fd/{fd}")).exists()
}

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let client = TcpStream::connect(addr)?;
    let (mut conn, _) = listener.accept()?;

    let fd = client.as_raw_fd();
    println!("before drop: descriptor open = {}", is_open(fd));
    drop(client);
    println!("after drop:  descriptor open = {}", is_open(fd));

    let peer = thread::spawn(move || {
        let mut buf = [0u8; 16];
        conn.read(&mut buf)
    });
    let n = peer.join().expect("the peer thread panicked")?;
    println!("peer: read() returned {n}, so the connection is closed");
    Ok(())
}
