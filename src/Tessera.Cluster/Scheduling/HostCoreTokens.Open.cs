using System.IO.MemoryMappedFiles;
using Tessera.Cluster.Native;
using Tessera.Cluster.Transport;

namespace Tessera.Cluster.Scheduling;

/// <summary>Opening (or making) the tokens' file, and the short lock every change to it takes.</summary>
internal sealed unsafe partial class HostCoreTokens
{
    private const string Folder = "/dev/shm";

    /// <summary>
    /// The file of the cluster that <paramref name="token"/> authenticates, for this user: named by a proof of the
    /// token (the token itself never appears), so the workers of one cluster share it and nobody else finds it.
    /// </summary>
    public static string PathFor(ClusterToken token) =>
        System.IO.Path.Combine(Folder, $"tessera-cores-{Libc.UserId()}-{Convert.ToHexStringLower(token.Proof("tessera-host-cores"))[..16]}");

    /// <summary>
    /// Opens the tokens at <paramref name="path"/>, making them with <paramref name="cores"/> tokens when the file is
    /// new (an existing file keeps its count); null with the reason where they cannot be had (not Linux, no /dev/shm,
    /// a file of another layout or owner): the worker then runs without.
    /// </summary>
    /// <param name="handOver">Whether a waiter handed the core a giver leaves is pinned to it for its run (<see cref="GrantUnsynchronized"/>).</param>
    public static HostCoreTokens? TryOpen(string path, int cores, bool handOver, out string? problem)
    {
        problem = null;
        if (!OperatingSystem.IsLinux())
        {
            problem = "host core tokens need Linux (futexes on /dev/shm)";
            return null;
        }

        MemoryMappedFile? file = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.ReadWrite | FileShare.Delete,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            };
            var stream = new FileStream(path, options);
            // Two first workers may both see an empty file: both extend it with zeros, the same bytes.
            if (stream.Length == 0) stream.SetLength(FileBytes);
            if (stream.Length != FileBytes)
            {
                stream.Dispose();
                problem = $"{path} holds {stream.Length} bytes, not host core tokens";
                return null;
            }

            file = MemoryMappedFile.CreateFromFile(stream, null, FileBytes, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
            view = file.CreateViewAccessor(0, FileBytes, MemoryMappedFileAccess.ReadWrite);
            var tokens = new HostCoreTokens(path, file, view, handOver);
            if (!tokens.Initialize(Math.Clamp(cores, 1, SlotCount)))
            {
                tokens.Dispose();
                problem = $"{path} holds another layout, or its maker died making it";
                return null;
            }

            return tokens;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            view?.Dispose();
            file?.Dispose();
            problem = $"cannot open {path}: {e.Message}";
            return null;
        }
    }

    /// <summary>The first opener writes the header; the others wait (briefly) until it has. False for another layout.</summary>
    private bool Initialize(int cores)
    {
        int* magic = Word(0);
        if (Interlocked.CompareExchange(ref *magic, Initializing, 0) == 0)
        {
            *Word(3) = cores;
            *Word(4) = cores;
            Volatile.Write(ref *magic, Magic);
            return true;
        }

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref *magic) == Initializing && waited.Elapsed < TimeSpan.FromSeconds(1))
        {
            Thread.Sleep(1);
        }

        return Volatile.Read(ref *magic) == Magic;
    }

    /// <summary>
    /// Takes the lock word (the holder's pid): a few spins, as the holder only ever scans 64 slots under it; then sleeps
    /// on the word a millisecond at a time (a holder the kernel preempted), taking it over from a holder that died.
    /// </summary>
    private void Lock()
    {
        int* word = Word(1);
        int spins = 0;
        while (Interlocked.CompareExchange(ref *word, _pid, 0) != 0)
        {
            if (++spins < 32)
            {
                Thread.SpinWait(16);
                continue;
            }

            int holder = Volatile.Read(ref *word);
            if (holder == 0) continue;
            Interlocked.Increment(ref *Word(2));
            Libc.FutexWait(word, holder, 1000);
            Interlocked.Decrement(ref *Word(2));
            if (holder != _pid && Volatile.Read(ref *word) == holder && !Libc.ProcessLives(holder))
            {
                // Died inside the lock (between two words of an update at worst: the counts may be off by that update).
                Interlocked.CompareExchange(ref *word, 0, holder);
            }
        }
    }

    private void Unlock()
    {
        // A full fence before the sleepers' count is read: one that counted itself in sees the word change.
        Interlocked.Exchange(ref *Word(1), 0);
        if (Volatile.Read(ref *Word(2)) != 0) Libc.FutexWake(Word(1));
    }
}
