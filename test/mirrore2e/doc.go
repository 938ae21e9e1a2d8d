// Package mirrore2e shows mirror mode end to end, through the real binaries against the Braze
// emulator: a re-sync with users gone and users new takes the label from exactly the departed and
// gives it to exactly the new, sending one object each; a run whose source fails, a cancelled run
// and a run that would remove most of the flagged users remove nobody and say why; and the
// destination behaves the same under CloudQuery's own protocol, as the CloudQuery CLI drives it.
package mirrore2e
