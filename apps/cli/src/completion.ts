import type { Command } from 'commander';

/** Words a shell may complete after each command path ('' is the program itself). */
function words(program: Command): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const flags = (command: Command) => command.options.flatMap((option) => [option.long, option.short].filter((flag): flag is string => flag !== undefined));
  // The program's options are accepted after any subcommand too.
  const global = flags(program);
  const walk = (command: Command, path: string[]) => {
    const subcommands = command.commands.map((sub) => sub.name());
    table.set(path.join(' '), [...new Set([...subcommands, ...flags(command), ...global, '--help'])]);
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return table;
}

/** A completion script for bash, or for zsh through its bash compatibility. */
export function completionScript(program: Command, shell: 'bash' | 'zsh'): string {
  const entries = [...words(program)].map(([path, list]) => `  [${JSON.stringify(path)}]=${JSON.stringify(list.join(' '))}`).join('\n');
  const bash = `# brook shell completion: source <(brook completion ${shell})
declare -gA _brook_words=(
${entries}
)
_brook() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" candidate i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) candidate="\${path:+\$path }\${COMP_WORDS[i]}"
         if [[ -n "\${_brook_words[\$candidate]+x}" ]]; then path="\$candidate"; fi ;;
    esac
  done
  COMPREPLY=( \$(compgen -W "\${_brook_words[\$path]}" -- "\$cur") )
}
complete -F _brook brook
`;
  return shell === 'zsh' ? `autoload -U +X bashcompinit && bashcompinit\n${bash}` : bash;
}
