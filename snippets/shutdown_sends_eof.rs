//! `shutdown(Shutdown::Write)` sends EOF to the peer, yet the socket can
//! still receive what the peer sends back.
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;

    // The server reads until EOF, then answers.
    let server = thread::spawn(move || -> std::io::Result<String> {
        let (mut conn, _) = listener.accept()?;
        let mut request = String::new();
        // read_to_string returns once read() gives 0: the client's EOF.
        conn.read_to_string(&mut request)?;
        conn.write_all(b"bye")?;
        Ok(request)
    });

    let mut client = TcpStream::connect(addr)?;
    client.write_all(b"hello")?;
    client.shutdown(Shutdown::Write)?;

    let mut reply = String::new();
    client.read_to_string(&mut reply)?;
    let request = server.join().expect("the server thread panicked")?;
    println!("server: read {request:?}, then read() returned 0 (EOF)");
    println!("client: still received {reply:?} after shutdown(Write)");

    // Writing after shutdown(Write) is refused by the kernel.
    let err = client.write_all(b"more").unwrap_err();
    println!("client: writing again fails with {:?}", err.kind());
    Ok(())
}
