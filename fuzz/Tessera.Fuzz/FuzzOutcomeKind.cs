namespace Tessera.Fuzz;

internal enum FuzzOutcomeKind
{
    Parsed,
    Refused,
    Finding,
}
