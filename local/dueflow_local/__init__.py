"""DueFlow's local side: the ``dueflow`` CLI, the synthetic book generator and (later) the embedded
runtime on moto. Never shipped to Lambda: moto and dev tools stay out of the deployment."""
