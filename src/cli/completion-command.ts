/**
 * `fleetstat completion bash|zsh`: a completion script generated from the command tree itself,
 * so a new command or option is completed without anyone editing a script.
 */
import type { Command } from 'commander';
import { EXIT } from './exit-codes.js';

/** For each command path ("" for the top, "db copy"), the words that may follow it. */
export function completionTable(program: Command): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const visit = (command: Command, path: string) => {
    const words = [
      ...command.commands.map((sub) => sub.name()),
      ...command.options.map((option) => option.long).filter((long): long is string => long !== undefined),
      '--help',
    ];
    table.set(path, [...new Set(words)]);
    for (const sub of command.commands) visit(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  visit(program, '');
  return table;
}

// Command names and options are [a-z-]; anything else would need quoting in the scripts.
function safe(word: string): string {
  if (!/^[a-z0-9-]*( [a-z0-9-]+)*$/.test(word)) throw new Error(`cannot put "${word}" into a completion script`);
  return word;
}

function wordsFunction(table: Map<string, string[]>): string {
  const cases = [...table].map(([path, words]) => `    "${safe(path)}") echo "${words.map(safe).join(' ')}" ;;`);
  return `_fleetstat_words() {\n  case "$1" in\n${cases.join('\n')}\n  esac\n}`;
}

/** The bash script: `eval "$(fleetstat completion bash)"`. */
export function bashCompletion(program: Command): string {
  return `# fleetstat completion for bash: eval "$(fleetstat completion bash)"
${wordsFunction(completionTable(program))}
_fleetstat() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmdpath="" w i
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ $w == -* ]] && continue
    case " $(_fleetstat_words "$cmdpath") " in *" $w "*) cmdpath="\${cmdpath:+$cmdpath }$w" ;; esac
  done
  # Option values and file arguments fall back to file names (complete -o default).
  COMPREPLY=($(compgen -W "$(_fleetstat_words "$cmdpath")" -- "$cur"))
}
complete -o default -F _fleetstat fleetstat
`;
}

/** The zsh script: save as _fleetstat in a directory on $fpath (or eval it after compinit). */
export function zshCompletion(program: Command): string {
  return `#compdef fleetstat
# fleetstat completion for zsh: fleetstat completion zsh > "\${fpath[1]}/_fleetstat"
${wordsFunction(completionTable(program))}
_fleetstat() {
  local cmdpath="" w i
  for ((i = 2; i < CURRENT; i++)); do
    w="\${words[i]}"
    [[ $w == -* ]] && continue
    [[ " $(_fleetstat_words "$cmdpath") " == *" $w "* ]] && cmdpath="\${cmdpath:+$cmdpath }$w"
  done
  local -a candidates
  candidates=(\${=$(_fleetstat_words "$cmdpath")})
  compadd -- $candidates
  _files
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _fleetstat "$@"; else compdef _fleetstat fleetstat; fi
`;
}

/** Prints the script for `shell`; exit 2 for a shell it does not know. */
export function completionCommand(program: Command, shell: string): number {
  if (shell === 'bash') process.stdout.write(bashCompletion(program));
  else if (shell === 'zsh') process.stdout.write(zshCompletion(program));
  else {
    process.stderr.write(`completion: unknown shell "${shell}"; use bash or zsh\n`);
    return EXIT.usage;
  }
  return EXIT.ok;
}
