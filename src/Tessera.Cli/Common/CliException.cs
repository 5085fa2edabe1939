namespace Tessera.Cli.Common;

/// <summary>A user mistake on the command line; printed as one line, exit code 2 unless stated.</summary>
internal sealed class CliException(string message, int exitCode = 2) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
