using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Tessera.Fuzz;

/// <summary>
/// The in-process fuzzer (no instrumentation): replays a corpus, then checks <c>mutations</c> inputs mutated from it
/// with a fixed seed. Inputs that parse join the pool (bounded), so mutations reach past the first checks. Used by the
/// CI tests and by `fuzz/run.sh --mutate`; the coverage-guided run is libFuzzer's (<see cref="LibFuzzerRun"/>).
/// </summary>
internal sealed class MutationRun
{
    private const int MaxPool = 2000;

    private readonly FuzzTarget _target;
    private readonly TimeSpan _slowInput;

    public MutationRun(FuzzTarget target, TimeSpan slowInput)
    {
        _target = target;
        _slowInput = slowInput;
    }

    /// <summary>The input being checked now: what a watchdog reports when a run does not finish.</summary>
    public byte[] Current { get; private set; } = [];

    public long Inputs { get; private set; }

    public long Parsed { get; private set; }

    public List<FuzzFinding> Findings { get; } = [];

    public TimeSpan Slowest { get; private set; }

    public void Run(IReadOnlyList<byte[]> corpus, long mutations, int seed, Action<MutationRun>? progress = null)
    {
        var pool = new List<byte[]>(corpus.Count == 0 ? [[]] : corpus);
        foreach (var input in corpus)
        {
            Check(input);
        }

        var mutator = new Mutator(seed, _target.Dictionary);
        var random = new Random(seed ^ 0x5EED);
        for (long i = 0; i < mutations; i++)
        {
            var input = mutator.Mutate(pool[random.Next(pool.Count)], pool[random.Next(pool.Count)]);
            if (Check(input) == FuzzOutcomeKind.Parsed && pool.Count < MaxPool)
            {
                pool.Add(input);
            }

            if (progress is not null && (i + 1) % 10_000 == 0)
            {
                progress(this);
            }
        }
    }

    private FuzzOutcomeKind Check(byte[] input)
    {
        Current = input;
        long start = Stopwatch.GetTimestamp();
        var outcome = FuzzCheck.Run(_target, input);
        var elapsed = Stopwatch.GetElapsedTime(start);
        Inputs++;
        if (outcome.Kind == FuzzOutcomeKind.Parsed) Parsed++;
        if (elapsed > Slowest) Slowest = elapsed;
        if (outcome.IsFinding)
        {
            Record(input, outcome.Failure);
        }
        else if (elapsed > _slowInput)
        {
            Record(input, $"took {elapsed.TotalMilliseconds:0} ms (bound {_slowInput.TotalMilliseconds:0} ms)");
        }

        return outcome.Kind;
    }

    private void Record(byte[] input, string failure)
    {
        // One finding per kind: the first line with its numbers left out.
        string key = Kind(failure);
        if (!Findings.Any(f => Kind(f.Failure) == key))
        {
            Findings.Add(new FuzzFinding(input, failure));
        }
    }

    private static string Kind(string failure) => Regex.Replace(failure.Split('\n')[0], "[0-9]+", "N");
}
