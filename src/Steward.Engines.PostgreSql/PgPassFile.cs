namespace Steward.Engines.PostgreSql;

/// <summary>
/// Lines of a libpq password file (<c>PGPASSFILE</c>, <c>passfile=</c>): how PostgreSQL's tools get Steward's admin
/// password without it ever appearing in an argument or an environment variable.
/// </summary>
internal static class PgPassFile
{
    /// <summary>The line for <paramref name="user"/> on <paramref name="host"/> and <paramref name="port"/> (<c>*</c>: any), every database.</summary>
    public static string Line(string user, string password, string host = "*", string port = "*") =>
        $"{Escape(host)}:{port}:*:{Escape(user)}:{Escape(password)}\n";

    /// <summary>The file libpq reads for the admin role of <paramref name="context"/>'s instance, on any host and port.</summary>
    public static IReadOnlyDictionary<string, string> For(EngineContext context) =>
        new Dictionary<string, string> { ["PGPASSFILE"] = Line(context.Instance.AdminUser, context.Instance.AdminPassword) };

    // A ':' or '\' inside a field is escaped with '\' (libpq's passwordFromFile).
    private static string Escape(string field) => field.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(":", "\\:", StringComparison.Ordinal);
}
