"""Plans: Change/Action/Plan values, the pure builder, saved plan files and their staleness check."""
