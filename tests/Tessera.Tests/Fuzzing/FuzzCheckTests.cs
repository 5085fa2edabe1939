using Tessera.Fuzz;

namespace Tessera.Tests.Fuzzing;

/// <summary>The property check itself fails where it must: another exception, a message of two lines, an allocation past the bound.</summary>
public sealed class FuzzCheckTests
{
    [Fact]
    public void ParsedAndRefusedInputsPass()
    {
        Assert.Equal(FuzzOutcomeKind.Parsed, FuzzCheck.Run(new FakeTarget(_ => { }), [1]).Kind);
        Assert.Equal(FuzzOutcomeKind.Refused, FuzzCheck.Run(new FakeTarget(_ => throw new InvalidDataException("bad input")), [1]).Kind);
    }

    [Fact]
    public void AnotherExceptionIsAFinding()
    {
        var outcome = FuzzCheck.Run(new FakeTarget(_ => throw new IndexOutOfRangeException("oops")), [1]);
        Assert.True(outcome.IsFinding);
        Assert.Contains("IndexOutOfRangeException", outcome.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void ARefusalOfTwoLinesIsAFinding()
    {
        Assert.True(FuzzCheck.Run(new FakeTarget(_ => throw new InvalidDataException("bad\ninput")), [1]).IsFinding);
    }

    [Fact]
    public void AllocatingPastTheBoundIsAFinding()
    {
        byte[]? kept = null;
        var outcome = FuzzCheck.Run(new FakeTarget(input => kept = new byte[64 << 20]), new byte[20]);
        Assert.True(outcome.IsFinding);
        Assert.Contains("allocated", outcome.Failure, StringComparison.Ordinal);
        Assert.NotNull(kept);
    }

    [Fact]
    public void TheMutationRunReportsAFindingWithItsInput()
    {
        var target = new FakeTarget(input =>
        {
            if (input.Length > 3 && input[3] == 0xFF) throw new InvalidOperationException("byte 3 is 0xFF");
        });
        var run = new MutationRun(target, TimeSpan.FromSeconds(5));
        run.Run([[1, 2, 3, 4, 5, 6]], mutations: 20_000, seed: 1);
        var finding = Assert.Single(run.Findings);
        Assert.Equal(0xFF, finding.Input[3]);
    }

    private sealed class FakeTarget(Action<byte[]> parse) : FuzzTarget
    {
        public override string Name => "fake";

        public override string Description => "a target of the tests";

        public override void Parse(ReadOnlySpan<byte> input) => parse(input.ToArray());

        public override bool IsRefusal(Exception e) => e is InvalidDataException;

        public override IEnumerable<byte[]> Seeds(SeedFiles cache) => [];
    }
}
