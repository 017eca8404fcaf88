"""What the reasons say: the topic taxonomy and the offline classifier of free-text reasons
(Russian, Ukrainian, English and mixed speech)."""

from bot.topics.classifier import Classification, TopicClassifier
from bot.topics.taxonomy import Taxonomy, TaxonomyError, Topic, load_taxonomy

__all__ = [
    "Classification",
    "Taxonomy",
    "TaxonomyError",
    "Topic",
    "TopicClassifier",
    "load_taxonomy",
]
