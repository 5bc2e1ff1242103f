//! `try_clone()` gives a second handle to the same socket. Dropping one
//! handle does not close the connection, because the other keeps the
//! descriptor open; `shutdown` acts on the connection itself, so it
//! reaches the peer even while a clone is alive.
use std::io::{ErrorKind, Read};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Duration;

/// What the peer's next read() sees, waiting at most 300 ms.
fn peer_sees(peer: &mut TcpStream) -> String {
    let mut buf = [0u8; 16];
    match peer.read(&mut buf) {
        Ok(0) => "EOF (read returned 0)".to_owned(),
        Ok(n) => format!("{n} bytes"),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            "nothing: the connection is still open".to_owned()
        }
        Err(e) => format!("error {:?}", e.kind()),
    }
}

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let stream = TcpStream::connect(listener.local_addr()?)?;
    let (mut peer, _) = listener.accept()?;
    peer.set_read_timeout(Some(Duration::from_millis(300)))?;

    let clone = stream.try_clone()?;
    drop(clone);
    println!("after dropping one clone:       peer sees {}", peer_sees(&mut peer));

    let keep_alive = stream.try_clone()?;
    stream.shutdown(Shutdown::Write)?;
    println!("after shutdown(Write), clone alive: peer sees {}", peer_sees(&mut peer));
    drop(keep_alive);
    Ok(())
}
