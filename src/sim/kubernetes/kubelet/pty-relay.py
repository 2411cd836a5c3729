# Runs a command on a pseudo-terminal for the process kubelet's `kubectl exec -t`: the terminal's output goes to
# stdout, stdin goes to the terminal, and each "ROWS COLS" line on fd 3 sets the terminal's size (the kernel then
# signals SIGWINCH to the command, as a real container runtime's resize does). Exits with the command's exit code.
import fcntl
import os
import pty
import select
import struct
import sys
import termios

pid, master = pty.fork()
if pid == 0:
    os.close(3)
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    except OSError as err:
        os.write(2, f"{sys.argv[1]}: {err.strerror}\n".encode())
        os._exit(127)

inputs = [0, 3]
pending = b""
while True:
    ready, _, _ = select.select([master, *inputs], [], [])
    if master in ready:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the command closed the terminal
            data = b""
        if not data:
            break
        os.write(1, data)
    if 0 in ready:
        data = os.read(0, 65536)
        if data:
            os.write(master, data)
        else:
            inputs.remove(0)
            os.write(master, b"\x04")  # end of input, as Ctrl-D at a terminal
    if 3 in ready:
        data = os.read(3, 4096)
        if not data:
            inputs.remove(3)
            continue
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            rows, cols = (int(v) for v in line.split())
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(128 - code if code < 0 else code)
