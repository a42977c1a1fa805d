namespace AspireLlm.Bench;

/// <summary>
/// <c>--env NAME=VALUE</c> (repeatable) on a benchmark's command line: runtime or app settings for the
/// process under test, so configurations can be compared in one sitting with everything else equal.
/// </summary>
internal static class EnvArguments
{
    public static Dictionary<string, string> Read(Dictionary<string, string>? defaults = null)
    {
        var settings = defaults ?? [];
        var commandLine = Environment.GetCommandLineArgs();
        for (var i = 0; i < commandLine.Length - 1; i++)
        {
            if (commandLine[i] == "--env" && commandLine[i + 1].Split('=', 2) is [var name, var value])
            {
                settings[name] = value;
            }
        }

        return settings;
    }
}
