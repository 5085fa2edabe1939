using System.Text;
using System.Text.Json;

namespace Tessera.Batch.Results;

/// <summary>
/// The journal of a job, in its output (JSON lines): a header naming the job (<see cref="JobKey"/>) and when it
/// started, a line per later run (a resume), and a line per shard once its result is written. A shard's line is
/// written only after its result is on disk (<see cref="ShardWriter.Commit"/> flushes it there), so every shard a
/// journal names is on disk, whenever the journal's own bytes reach it. Each line is handed to the OS at once, so a
/// killed coordinator loses none; the shard lines are not flushed to disk one by one (the header and run lines are,
/// and the journal when it is closed): a power cut may lose the last few, whose shards then run again on resume,
/// as would a shard whose folder went missing. That saves a disk flush (and the file system's commit) per shard.
/// A line cut short by a kill is dropped when the journal is opened again.
/// </summary>
public sealed class BatchJournal : IDisposable
{
    public const string FileName = "journal.jsonl";
    private const string Format = "tessera batch 1";

    private readonly FileStream _stream;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, ShardEntry> _done;

    private BatchJournal(FileStream stream, JobKey key, DateTimeOffset started, int runs, Dictionary<int, ShardEntry> done)
    {
        _stream = stream;
        Key = key;
        Started = started;
        Runs = runs;
        _done = done;
    }

    public JobKey Key { get; }

    /// <summary>When the job's first run started.</summary>
    public DateTimeOffset Started { get; }

    /// <summary>Runs of the job so far, this one included.</summary>
    public int Runs { get; }

    /// <summary>The shards written, by index.</summary>
    public IReadOnlyDictionary<int, ShardEntry> Done
    {
        get
        {
            lock (_lock) return new Dictionary<int, ShardEntry>(_done);
        }
    }

    /// <summary>A new journal for <paramref name="key"/> at <paramref name="path"/>.</summary>
    public static BatchJournal Create(string path, JobKey key)
    {
        var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        var started = DateTimeOffset.UtcNow;
        var journal = new BatchJournal(stream, key, started, 1, []);
        journal.Write(new Header(Format, key, started), toDisk: true);
        return journal;
    }

    /// <summary>The job key a journal names, without opening it for writing; null when the file is not a batch journal.</summary>
    public static JobKey? ReadKey(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        return ParseHeader(reader.ReadLine());
    }

    /// <summary>Opens a journal to go on with its job: the shards it records, a torn last line cut off, a run line added.</summary>
    public static BatchJournal Resume(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int end = 0, line = 0, runs = 1;
        Header? header = null;
        var done = new Dictionary<int, ShardEntry>();
        while (end < bytes.Length)
        {
            int newline = Array.IndexOf(bytes, (byte)'\n', end);
            if (newline < 0) break; // cut short by a kill: dropped below
            var text = bytes.AsSpan(end, newline - end);
            try
            {
                if (line == 0)
                {
                    header = JsonSerializer.Deserialize<Header>(text, BatchJson.Line);
                    if (header?.Journal != Format || header.Job is null) throw new JsonException("not a batch journal header");
                }
                else
                {
                    using var document = JsonDocument.Parse(bytes.AsMemory(end, newline - end));
                    if (document.RootElement.TryGetProperty("shard", out _))
                    {
                        var entry = document.RootElement.Deserialize<ShardEntry>(BatchJson.Line)!;
                        done[entry.Shard] = entry;
                    }
                    else if (document.RootElement.TryGetProperty("run", out _))
                    {
                        runs++;
                    }
                }
            }
            catch (JsonException e)
            {
                throw new BatchException($"the journal '{path}' is damaged at line {line + 1}: {e.Message}");
            }

            end = newline + 1;
            line++;
        }

        if (header is null) throw new BatchException($"the journal '{path}' is empty or damaged: delete the output to start again");
        var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read);
        stream.SetLength(end);
        stream.Position = end;
        var journal = new BatchJournal(stream, header.Job, header.Started, runs + 1, done);
        journal.Write(new RunLine(runs + 1, DateTimeOffset.UtcNow), toDisk: true);
        return journal;
    }

    /// <summary>Records shard <paramref name="entry"/>, whose result is on disk, as written; with the OS when this returns.</summary>
    public void Append(ShardEntry entry)
    {
        lock (_lock)
        {
            Write(entry, toDisk: false);
            _done[entry.Shard] = entry;
        }
    }

    /// <summary>Forgets shards whose result went missing (they run again).</summary>
    public void Forget(IEnumerable<int> shards)
    {
        lock (_lock)
        {
            foreach (int s in shards) _done.Remove(s);
        }
    }

    private void Write<T>(T line, bool toDisk)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(line, BatchJson.Line);
        _stream.Write(json);
        _stream.WriteByte((byte)'\n');
        _stream.Flush(flushToDisk: toDisk);
    }

    private static JobKey? ParseHeader(string? line)
    {
        if (line is null) return null;
        try
        {
            var header = JsonSerializer.Deserialize<Header>(line, BatchJson.Line);
            return header?.Journal == Format ? header.Job : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (!_stream.CanWrite) return;
            _stream.Flush(flushToDisk: true);
            _stream.Dispose();
        }
    }

    internal sealed record Header(string Journal, JobKey Job, DateTimeOffset Started);

    internal sealed record RunLine(int Run, DateTimeOffset Started);
}
