namespace Tessera.Fuzz;

/// <summary>What one input did: parsed, refused with a typed one-line error (<see cref="Failure"/> holds it), or a finding (<see cref="Failure"/> says which).</summary>
internal readonly record struct FuzzOutcome(FuzzOutcomeKind Kind, string Failure = "")
{
    public bool IsFinding => Kind == FuzzOutcomeKind.Finding;
}
