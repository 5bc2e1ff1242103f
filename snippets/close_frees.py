"""close() frees the descriptor at once: fileno() is -1 after it, the
peer reads EOF, and any later use of the socket raises."""
import socket

server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
client = socket.create_connection(server.getsockname())
conn, _ = server.accept()

print("before close, fileno() >= 0:", client.fileno() >= 0)
client.close()
print("after close, fileno() is", client.fileno())
print("the peer reads:", conn.recv(100))
try:
    client.send(b"x")
except OSError as e:
    print("using it raises", type(e).__name__ + ":", e)

conn.close()
server.close()
