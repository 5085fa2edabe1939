using System.Diagnostics;
using System.Globalization;
using Tessera.Cluster.Native;

namespace Tessera.Cluster.Telemetry;

/// <summary>
/// A diagnostic timeline of a process's part in a pipeline, to see where each process waits while work is queued
/// elsewhere and how many compute at once (bench/pipeline-trace.py joins the files of all processes): intervals, each
/// with its kind, request id, stage, rows, wall start and end (Stopwatch ticks: CLOCK_MONOTONIC, one clock for every
/// process of the host) and the thread CPU time spent in it. Workers record a RUN's arrival to its end
/// (<see cref="Kind.Request"/>), the wait for a RUN and its read, from the connection's loop asking for the next frame to the RUN's tensors read
/// (<see cref="Kind.Receive"/>: its CPU is the wake-up, the frames' reads and parses), the session run (<see cref="Kind.Run"/>, started on the model's thread or the frame
/// thread) and the send on (<see cref="Kind.Send"/>, which includes any wait for ring room); the coordinator a batch
/// from its cut to its join (<see cref="Kind.Batch"/>), each route request (<see cref="Kind.Route"/>) with its send
/// (<see cref="Kind.Send"/>), the read of each result on the receive loop (<see cref="Kind.Receive"/>: from its frame to its tensors read) and the join of a batch's pieces (<see cref="Kind.Join"/>). Off unless
/// TESSERA_PIPELINE_TRACE names a file prefix: each process then appends to PREFIX.COMMAND.PID.tsv twice a second and at exit; it costs one
/// check of a static field per event otherwise.
/// </summary>
public sealed class PipelineTrace
{
    private readonly Interval[] _intervals;
    private readonly Lock _writing = new();
    private int _count;
    private int _written;
    private bool _failed;
    private Timer? _timer;

    static PipelineTrace()
    {
        if (Environment.GetEnvironmentVariable("TESSERA_PIPELINE_TRACE") is { Length: > 0 } prefix && OperatingSystem.IsLinux())
        {
            var trace = new PipelineTrace(1 << 20);
            // The command names the process in the file name ("worker", "bench-cluster").
            string[] arguments = Environment.GetCommandLineArgs();
            string role = arguments.Length > 1 && arguments[1].All(c => char.IsAsciiLetterOrDigit(c) || c == '-') ? arguments[1] : "process";
            string path = $"{prefix}.{role}.{Environment.ProcessId}.tsv";
            // A diagnostic switch must not take the process down: the prefix's folder is made if missing, and a
            // trace that cannot be written is said once on stderr and dropped.
            if (!CanWrite(path)) return;
            // Local workers are killed when their coordinator is done, so the file is appended to twice a second
            // rather than written at exit only.
            trace._timer = new Timer(_ => trace.Append(path), null, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500));
            AppDomain.CurrentDomain.ProcessExit += (_, _) => trace.Append(path);
            Current = trace;
        }
    }

    private static bool CanWrite(string path)
    {
        try
        {
            string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
            File.WriteAllText(path, "");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            Console.Error.WriteLine($"tessera: TESSERA_PIPELINE_TRACE: cannot write {path} ({e.Message}); not tracing");
            return false;
        }
    }

    /// <summary>A trace with room for <paramref name="capacity"/> intervals (those beyond are counted, not kept).</summary>
    public PipelineTrace(int capacity) => _intervals = new Interval[capacity];

    /// <summary>The trace TESSERA_PIPELINE_TRACE asks for; null when it is not set.</summary>
    public static PipelineTrace? Current { get; }

    /// <summary>What an interval is.</summary>
    public enum Kind : byte
    {
        Request,
        Run,
        Send,
        Route,
        Batch,
        Join,
        Receive,
    }

    /// <summary>A point to measure an interval from: now on the wall clock and on this thread's CPU clock.</summary>
    public static Mark Start() => Current is null ? default : new Mark(Stopwatch.GetTimestamp(), Libc.ThreadCpuSeconds(), Environment.CurrentManagedThreadId);

    /// <summary>Records the interval from <paramref name="start"/> to now; its CPU is this thread's, -1 when it ends on another thread than it began.</summary>
    public static void End(Kind kind, Mark start, ulong id, int stage, int rows)
    {
        if (Current is not { } trace || start.Wall == 0) return;
        int slot = Interlocked.Increment(ref trace._count) - 1;
        if (slot < trace._intervals.Length)
        {
            int thread = Environment.CurrentManagedThreadId;
            double cpu = thread == start.Thread ? Libc.ThreadCpuSeconds() - start.Cpu : -1e-6;
            trace._intervals[slot] = new Interval(kind, id, stage, rows, start.Wall, Stopwatch.GetTimestamp(), cpu, thread);
        }
    }

    /// <summary>Appends the intervals recorded since the last call (up to the first slot taken but not yet filled) to <paramref name="path"/>.</summary>
    private void Append(string path)
    {
        lock (_writing)
        {
            GC.KeepAlive(_timer);
            if (_failed) return;
            try
            {
                AppendLocked(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Said once: the timer and the exit handler both come back here.
                Console.Error.WriteLine($"tessera: TESSERA_PIPELINE_TRACE: cannot append to {path} ({e.Message}); tracing stopped");
                _failed = true;
                _timer?.Dispose();
            }
        }
    }

    private void AppendLocked(string path)
    {
        double us = 1e6 / Stopwatch.Frequency;
        int count = Math.Min(Volatile.Read(ref _count), _intervals.Length);
        using var writer = new StreamWriter(path, append: _written > 0);
        if (_written == 0) writer.WriteLine("kind\tid\tstage\trows\tstart_us\tend_us\tcpu_us\tthread");
        for (; _written < count && _intervals[_written].End != 0; _written++)
        {
            var v = _intervals[_written];
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{v.Kind}\t{v.Id}\t{v.Stage}\t{v.Rows}\t{v.Start * us:F1}\t{v.End * us:F1}\t{v.Cpu * 1e6:F1}\t{v.Thread}"));
        }
    }

    /// <summary>Where an interval began (zero when not tracing).</summary>
    public readonly record struct Mark(long Wall, double Cpu, int Thread);

    private readonly record struct Interval(Kind Kind, ulong Id, int Stage, int Rows, long Start, long End, double Cpu, int Thread);
}
