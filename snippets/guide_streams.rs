// stdout and stderr, in the order they were written.
fn main() {
    println!("connecting to 127.0.0.1:7878");
    eprintln!("warning: no TLS on loopback");
    println!("sent 5 bytes");
    eprintln!("warning: peer closed first");
    println!("done");
}
