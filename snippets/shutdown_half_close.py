"""shutdown(SHUT_WR) is a half-close: the peer reads EOF, and this side
can still receive its answer. Loopback only: port 0 lets the system pick
a free port."""
import socket

server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
client = socket.create_connection(server.getsockname())
conn, _ = server.accept()

client.sendall(b"question")
client.shutdown(socket.SHUT_WR)  # no more sending from the client

print("server got:", conn.recv(100))
print("server got:", conn.recv(100), "(EOF: the client sends no more)")
conn.sendall(b"answer")
print("client still receives:", client.recv(100))
try:
    client.send(b"more")
except OSError as e:
    print("client cannot send:", type(e).__name__)

for s in (conn, client, server):
    s.close()
