using Tessera.Fuzz;

namespace Tessera.Tests.Fuzzing;

/// <summary>
/// The short fuzzing run of CI: for every parser of untrusted bytes, its seed corpus (real inputs from the real writers
/// and the reference data), the crash inputs checked in, and thousands of inputs mutated from them with a fixed seed,
/// each held to the fuzzers' own property (<see cref="FuzzCheck"/>): parsed, or refused with the parser's typed
/// one-line error; within its allocation bound; within seconds. fuzz/run.sh is the long coverage-guided run.
/// </summary>
public sealed class FuzzCorpusTests
{
    private const int Seed = 17;

    public static TheoryData<string> Targets => new(FuzzTargets.Names);

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task MutatedInputsAreParsedOrRefusedWithTheTypedError(string name)
    {
        using var target = new OwnedTarget(name);
        var seeds = target.Value.Seeds(SeedFiles.FromEnvironment()).ToList();
        Assert.NotEmpty(seeds);
        var run = new MutationRun(target.Value, slowInput: TimeSpan.FromSeconds(5));
        var running = Task.Run(() => run.Run([.. seeds, .. CrashInputs.For(name)], mutations: name == "handshake" ? 500 : 5000, Seed));
        if (await Task.WhenAny(running, Task.Delay(TimeSpan.FromMinutes(3))) != running)
        {
            Assert.Fail($"{name}: an input did not finish within 3 minutes: {Convert.ToHexString(run.Current)}");
        }

        await running;
        Assert.True(run.Findings.Count == 0, string.Join("\n", run.Findings.Select(f => $"{f.Failure}\n  input: {Convert.ToHexString(f.Input)}")));

        // Inputs that parse show the mutations reach past the first checks (the handshake never completes without the token).
        Assert.True(name == "handshake" || run.Parsed > seeds.Count / 2, $"{name}: only {run.Parsed} of {run.Inputs} inputs parsed");
    }

    [Fact]
    public void EverySeedOfATargetThatCanParseParses()
    {
        foreach (string name in FuzzTargets.Names.Where(n => n != "handshake"))
        {
            using var target = new OwnedTarget(name);
            var refused = target.Value.Seeds(SeedFiles.FromEnvironment())
                .Select(seed => (Seed: seed, Outcome: FuzzCheck.Run(target.Value, seed)))
                .Where(s => s.Outcome.Kind != FuzzOutcomeKind.Parsed)
                .ToList();

            // The node suite's TensorProtos include types Tessera refuses (complex, float8): those seeds are refused, not broken.
            Assert.True(refused.All(s => !s.Outcome.IsFinding), $"{name}: {refused.FirstOrDefault(s => s.Outcome.IsFinding).Outcome.Failure}");
            if (name is not ("tensorproto" or "onnx"))
            {
                Assert.True(refused.Count == 0, $"{name}: {refused.Count} seeds do not parse; the first: {(refused.Count > 0 ? Convert.ToHexString(refused[0].Seed) : "")}");
            }
        }
    }

    [Fact]
    public void TheSameSeedMutatesTheSameWay()
    {
        byte[] input = [.. "{\"inputs\":[]}"u8];
        var first = new Mutator(5, []);
        var second = new Mutator(5, []);
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(first.Mutate(input, input), second.Mutate(input, input));
        }
    }
}
