// kiln: compile_fail
//! Rust rejects using a stream after it was dropped (closed): the
//! use-after-close bug that C and Python only find at run time.
use std::io::Write;
use std::net::TcpStream;

fn main() -> std::io::Result<()> {
    let mut stream = TcpStream::connect("127.0.0.1:9")?;
    drop(stream); // closes the socket and frees its descriptor
    stream.write_all(b"too late")?; // error[E0382]: borrow of moved value
    Ok(())
}
