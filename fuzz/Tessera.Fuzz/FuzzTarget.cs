namespace Tessera.Fuzz;

/// <summary>
/// One parser of untrusted bytes as the fuzzers see it: what it does with an input, which exceptions are its typed
/// one-line refusals of bad input (anything else is a finding), how much it may allocate for an input of a given
/// length, and the real inputs its corpus starts from.
/// </summary>
internal abstract class FuzzTarget
{
    /// <summary>Fixed part of the default allocation bound: buffers and lookup tables a reader makes whatever the input.</summary>
    protected const long BaseAllocationBytes = 1L << 20;

    /// <summary>Bytes the default bound allows per input byte: decoded objects (a tensor, a node) outweigh their encoding.</summary>
    protected const long AllocationPerInputByte = 64;

    public abstract string Name { get; }

    /// <summary>The code under test, for `--list` and docs/fuzzing.md.</summary>
    public abstract string Description { get; }

    /// <summary>Parses <paramref name="input"/> as the server, worker or CLI would; throws when it is refused.</summary>
    public abstract void Parse(ReadOnlySpan<byte> input);

    /// <summary>True for the exception types the parser reports bad input with (400, INVALID_ARGUMENT, Malformed...).</summary>
    public abstract bool IsRefusal(Exception e);

    /// <summary>
    /// Most bytes one input may make the parser allocate: a fixed part and a part proportional to the input, so that
    /// a size declared in a header is checked against the bytes that follow (or a limit) before it is allocated.
    /// </summary>
    public virtual long AllocationBound(int inputLength) => BaseAllocationBytes + (AllocationPerInputByte * inputLength);

    /// <summary>False when the parser runs on threads other than the caller's, whose allocations a check cannot see.</summary>
    public virtual bool MeasuresAllocation => true;

    /// <summary>Tokens the mutator splices in (JSON keys, magic strings), beside its generic byte mutations.</summary>
    public virtual IReadOnlyList<byte[]> Dictionary => [];

    /// <summary>Dictionary tokens as UTF-8.</summary>
    protected static byte[][] Tokens(params string[] tokens) => tokens.Select(System.Text.Encoding.UTF8.GetBytes).ToArray();

    /// <summary>The seed corpus: real inputs written by the real writers, and real files from <paramref name="cache"/>.</summary>
    public abstract IEnumerable<byte[]> Seeds(SeedFiles cache);
}
