using System.Diagnostics;
using Tessera.Cluster.Transport;

namespace Tessera.Cluster.Execution;

/// <summary>
/// N `tessera worker` processes on loopback, each on a free port, sharing a fresh random token and a temporary
/// cache, started by this process and stopped (killed) on dispose: the embedded default of <c>run --workers N</c>.
/// Each worker's stdin is a pipe this process holds open and never writes: when this process dies, even by SIGKILL
/// (no dispose, no exit handler), the kernel closes the pipe and the worker (`--until-stdin-closes`) stops.
/// </summary>
public sealed class LocalWorkers : IDisposable
{
    private readonly List<Process> _processes = [];
    private readonly string _directory;

    private LocalWorkers(string directory, ClusterToken token, IReadOnlyList<string> addresses, List<Process> processes)
    {
        _directory = directory;
        Token = token;
        Addresses = addresses;
        _processes = processes;
    }

    public ClusterToken Token { get; }

    public IReadOnlyList<string> Addresses { get; }

    /// <param name="command">How to start `tessera` (the program and arguments before `worker`).</param>
    public static LocalWorkers Start(int count, int threads, IReadOnlyList<string> command, TimeSpan startTimeout)
    {
        string directory = Directory.CreateTempSubdirectory("tessera-local-workers-").FullName;
        string secret = ClusterToken.NewSecret();
        string tokenFile = Path.Combine(directory, "token");
        File.WriteAllText(tokenFile, secret);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var processes = new List<Process>();
        var addresses = new List<string>();
        try
        {
            var starting = new List<(Process Process, TaskCompletionSource<string> Address)>();
            for (int i = 0; i < count; i++)
            {
                var info = new ProcessStartInfo(command[0]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (string a in command.Skip(1)) info.ArgumentList.Add(a);
                foreach (string a in new[] { "worker", "--listen", "127.0.0.1:0", "--token-file", tokenFile, "--cache-dir", Path.Combine(directory, "cache"), "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture), "--name", $"local-{i}", "--until-stdin-closes" })
                {
                    info.ArgumentList.Add(a);
                }

                info.Environment["TESSERA_LOG_LEVEL"] = "Warning";
                var process = Process.Start(info) ?? throw new ClusterException(ClusterErrorCode.Internal, "cannot start a worker process");
                processes.Add(process);
                var address = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                process.OutputDataReceived += (_, e) =>
                {
                    const string marker = "listening on ";
                    if (e.Data is { } line && line.Contains(marker, StringComparison.Ordinal))
                    {
                        address.TrySetResult(line[(line.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..].Trim());
                    }
                };
                process.ErrorDataReceived += (_, e) =>
                {
                    if (e.Data is not null) Console.Error.WriteLine($"[worker {i}] {e.Data}");
                };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                starting.Add((process, address));
            }

            foreach (var (process, address) in starting)
            {
                if (!address.Task.Wait(startTimeout))
                {
                    throw new ClusterException(ClusterErrorCode.WorkerDown, $"a local worker did not start within {startTimeout.TotalSeconds:0} s (exit code {(process.HasExited ? process.ExitCode : "none yet")})");
                }

                addresses.Add(address.Task.Result);
            }

            return new LocalWorkers(directory, new ClusterToken(secret), addresses, processes);
        }
        catch
        {
            Stop(processes);
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>CPU time (user and system) each worker process has used so far, in the order of <see cref="Addresses"/>.</summary>
    public TimeSpan[] ProcessorTimes()
    {
        var times = new TimeSpan[_processes.Count];
        for (int i = 0; i < times.Length; i++)
        {
            _processes[i].Refresh();
            times[i] = _processes[i].HasExited ? TimeSpan.Zero : _processes[i].TotalProcessorTime;
        }

        return times;
    }

    private static void Stop(List<Process> processes)
    {
        foreach (var p in processes)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
            }

            p.Dispose();
        }
    }

    public void Dispose()
    {
        Stop(_processes);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
