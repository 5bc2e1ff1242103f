//! `close` with `SO_LINGER` set to zero (set through the `socket2` crate,
//! since std has no setter): instead of the orderly FIN the kernel sends a
//! reset (RST), so the peer's `read()` fails where it would have read EOF.
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use socket2::Socket;

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let client = TcpStream::connect(listener.local_addr()?)?;
    let (mut peer, _) = listener.accept()?;

    let mut client = Socket::from(client);
    client.write_all(b"last words")?;
    let mut buf = [0u8; 16];
    let n = peer.read(&mut buf)?;
    println!("peer read {n} bytes: {:?}", String::from_utf8_lossy(&buf[..n]));

    client.set_linger(Some(Duration::ZERO))?;
    println!("linger: {:?}", client.linger()?);
    drop(client); // close() with a zero linger: an abortive close

    match peer.read(&mut buf) {
        Ok(0) => println!("peer read EOF"),
        Ok(n) => println!("peer read {n} more bytes"),
        Err(e) => println!("peer read failed: {:?}", e.kind()),
    }
    Ok(())
}
