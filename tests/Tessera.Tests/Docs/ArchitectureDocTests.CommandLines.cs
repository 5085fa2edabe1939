using System.CommandLine;
using System.Reflection;
using System.Text.RegularExpressions;
using Tessera.Cli.Commands;

namespace Tessera.Tests.Docs;

/// <summary>
/// The command lines the documents write: every `--option` after `tessera COMMAND` (on its line, and on the lines a
/// trailing backslash continues it to, up to the end of a backtick span, a pipe, `;`, `&amp;&amp;`, `#` or `)`) is one that
/// COMMAND declares. An option renamed or dropped in src/Tessera.Cli/Commands then fails here, on the page that
/// still shows it. Only option names are checked, not values or defaults.
/// </summary>
public sealed partial class ArchitectureDocTests
{
    [Fact]
    public void EveryOptionAfterATesseraCommandIsOneItDeclares()
    {
        var commands = CliCommands();
        var problems = new List<string>();
        foreach (string doc in s_documents)
        {
            string[] lines = File.ReadAllLines(Path.Combine(TestPaths.RepositoryRoot, doc));
            for (int i = 0; i < lines.Length; i++)
            {
                foreach (Match invocation in TesseraInvocation().Matches(lines[i]))
                {
                    string name = invocation.Groups[1].Value;
                    string[] options = OptionsIn(CommandLineAfter(lines, i, invocation.Index + invocation.Length));
                    if (!commands.TryGetValue(name, out var declared))
                    {
                        // Prose names threads and services "tessera ..." too; only a command line with options must be a command.
                        if (options.Length > 0) problems.Add($"{doc}:{i + 1}: 'tessera {name}' is no command, yet has {string.Join(", ", options)}");
                        continue;
                    }

                    problems.AddRange(options.Where(o => !declared.Contains(o)).Select(o => $"{doc}:{i + 1}: tessera {name} has no option {o}"));
                }
            }
        }

        Assert.True(problems.Count == 0, "the documents' command lines:\n" + string.Join("\n", problems));
    }

    /// <summary>Each `tessera` command by name, with every name and alias of its options (and --help, which the root adds).</summary>
    private static Dictionary<string, HashSet<string>> CliCommands()
    {
        var commands = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var factories = typeof(CommandHost).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(CommandHost).Namespace)
            .Select(t => t.GetMethod("Create", BindingFlags.Public | BindingFlags.Static, Type.EmptyTypes))
            .Where(m => m is not null && m.ReturnType == typeof(Command));
        foreach (var factory in factories)
        {
            var command = (Command)factory!.Invoke(null, null)!;
            commands[command.Name] = [.. command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)), "--help", "-h", "-?"];
        }

        // The commands this check knows must include the ones the pages document, or it would check nothing.
        Assert.Superset(new HashSet<string> { "serve", "batch", "loadgen", "average", "quantize", "plan", "run", "worker" }, commands.Keys.ToHashSet());
        return commands;
    }

    /// <summary>The rest of the command line from <paramref name="start"/>: continued by a trailing backslash, cut where it ends.</summary>
    private static string CommandLineAfter(string[] lines, int line, int start)
    {
        string text = lines[line][start..];
        while (text.TrimEnd().EndsWith('\\') && line + 1 < lines.Length)
        {
            text = text.TrimEnd()[..^1] + " " + lines[++line];
        }

        return CommandLineEnd().Split(text)[0];
    }

    private static string[] OptionsIn(string commandLine) => [.. LongOption().Matches(commandLine).Select(m => m.Value)];

    // "tessera NAME" as a command: not "tessera-serve" (a service name) nor a path such as artifacts/cli/tessera.
    [GeneratedRegex(@"(?<![\w/.-])(?:\./)?tessera ([a-z][a-z-]*)")]
    private static partial Regex TesseraInvocation();

    [GeneratedRegex(@"`|\||;|&&|#|\)|\. ")]
    private static partial Regex CommandLineEnd();

    [GeneratedRegex(@"(?<![\w-])--[a-z](?:[a-z0-9-]*[a-z0-9])?")]
    private static partial Regex LongOption();
}
